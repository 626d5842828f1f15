#!/usr/bin/env bash
# Output comparison: builds the example project and every fixture project with the tminus
# of a given git revision and with the working tree's, and compares the output trees byte
# for byte. For refactors that must not change what a build writes.
#
#   bench/compare_output.sh REV        # e.g. bench/compare_output.sh ca9feef
#
# The binary of REV is built in a temporary git worktree (removed at the end) into
# target/compare-<REV> (kept, so a second run only builds the working tree's again); the
# working tree's into target/ as usual. Each project is copied to a temporary folder per
# binary (so neither reads the other's .tminus/cache) and built there:
#
#   example   the repository's content/ (approved 1.2), built twice (the second build
#             finds it unchanged)
#   minimal   tests/fixtures/minimal
#   changes   tests/fixtures/changes/v1 then v2 into the same output folder (what changed,
#             calendar SEQUENCE from the previous plan.json)
#
# Before comparing, what depends on the clock is masked: the build time (`built_at`) in
# versions.json, versions.js and the output root's index.html and 404.html, `generated_at` and
# `as_of` (hypercare, delivery status) in plan.json and `DTSTAMP` in the .ics
# files. The hidden `.prev-*` folders are left out. Exit status 0 when the trees are
# identical, 1 (with a diff) otherwise. Writes nothing in the repository except target/.
set -euo pipefail

REV="${1:?usage: bench/compare_output.sh REV}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"
BASE_SHA="$(git rev-parse --short "$REV^{commit}")"
TMP="$(mktemp -d)"
cleanup() {
  git -C "$REPO" worktree remove --force "$TMP/src" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

echo "== building $BASE_SHA (in a temporary worktree)" >&2
git worktree add --quiet --detach "$TMP/src" "$BASE_SHA"
BASE_TARGET="$REPO/target/compare-$BASE_SHA"
(cd "$TMP/src" && CARGO_TARGET_DIR="$BASE_TARGET" cargo build --locked --quiet --bin tminus)
BASE_BIN="$BASE_TARGET/debug/tminus"

echo "== building the working tree" >&2
cargo build --locked --quiet --bin tminus
CUR_TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
CUR_BIN="$CUR_TARGET/debug/tminus"

# build BIN SIDE NAME PROJECT...: copies each project (in order) and builds it into one
# output folder, $TMP/SIDE/NAME.out.
build() {
  local bin="$1" side="$2" name="$3"
  shift 3
  local out="$TMP/$side/$name.out"
  local i=0
  for project in "$@"; do
    i=$((i + 1))
    local copy="$TMP/$side/$name.src$i"
    mkdir -p "$copy"
    cp -r "$project/content" "$copy/"
    [ -d "$project/themes" ] && cp -r "$project/themes" "$copy/"
    "$bin" --root "$copy" build --out "$out" >/dev/null
  done
}

for side in base cur; do
  bin="$BASE_BIN"
  [ "$side" = cur ] && bin="$CUR_BIN"
  build "$bin" "$side" example "$REPO" "$REPO"
  build "$bin" "$side" minimal "$REPO/tests/fixtures/minimal"
  build "$bin" "$side" changes "$REPO/tests/fixtures/changes/v1" "$REPO/tests/fixtures/changes/v2"
  # Mask the clock (sed -i writes a new file: hard links to it are left alone).
  find "$TMP/$side" -path '*/.prev-*' -prune -o -type f \
    \( -name versions.json -o -name versions.js -o -name plan.json -o -name '*.ics' \) -print0 |
    xargs -0 sed -i -E \
      -e 's/"(built_at|generated_at|as_of)": ?"[^"]*"/"\1":"<time>"/g' \
      -e 's/^DTSTAMP:.*/DTSTAMP:<time>/'
  # The output root's index.html and 404.html list the versions with their build times.
  for f in "$TMP/$side"/*.out/index.html "$TMP/$side"/*.out/404.html; do
    [ -f "$f" ] && sed -i -E 's/<time datetime="[^"]*">[^<]*<\/time>/<time>/g' "$f"
  done
done

status=0
for name in example minimal changes; do
  files=$(cd "$TMP/cur/$name.out" && find . -path '*/.prev-*' -prune -o -type f -print | wc -l)
  if diff -r --exclude='.prev-*' "$TMP/base/$name.out" "$TMP/cur/$name.out" >"$TMP/$name.diff"; then
    echo "$name: identical ($files files)"
  else
    echo "$name: DIFFERENT"
    head -n 60 "$TMP/$name.diff"
    status=1
  fi
done
exit "$status"
