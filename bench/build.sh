#!/usr/bin/env bash
# Build benchmark: tminus vs Hugo on the same N Markdown pages.
#
#   bench/build.sh              # N=10000 (or PAGES=...)
#   bench/build.sh --quick      # N=1000, for smoke runs
#   bench/build.sh --enforce    # exit 1 when a target is missed (for CI)
#
# Environment: PAGES (default 10000), RUNS (counted runs, default 3), SEED, HUGO (the hugo
# binary, default `hugo`; the Hugo column is skipped when it is not installed),
# CARGO_TARGET_DIR (default target/), KEEP=1 keeps the generated sites.
#
# Each tool is run once as an uncounted warm-up, then RUNS times; each run writes into a
# new, empty output folder (old ones are deleted only at the end: see `measure`), except
# for the "rebuild" and "edit" rows (cache and output kept: the edit-and-rebuild loop, where
# tminus reuses the previous generation; nothing changed, or one guide edited before each
# run; "index.html written" is the count of new inodes). Wall time, peak RSS and CPU time
# (user+sys) come from `/usr/bin/time -f '%e %M %U %S'`; CPU time is reported too because
# wall time is only meaningful on an otherwise idle machine (the load average is printed
# before each tool). Prints a Markdown table; writes nothing in the repository (the
# release build aside).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PAGES="${PAGES:-10000}"
RUNS="${RUNS:-3}"
SEED="${SEED:-20270329}"
HUGO="${HUGO:-hugo}"
ENFORCE=0
GEN_ARGS=()
for arg in "$@"; do
  case "$arg" in
    --quick) PAGES=1000 ;;
    --enforce) ENFORCE=1 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

TIME=/usr/bin/time
[[ -x "$TIME" ]] || { echo "GNU time is needed at $TIME (apt-get install time)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 is needed to generate the project" >&2; exit 2; }
HAVE_HUGO=1
command -v "$HUGO" >/dev/null || { HAVE_HUGO=0; echo "note: '$HUGO' not found; benchmarking tminus only" >&2; }

echo "==> cargo build --release" >&2
cargo build --release --quiet
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
TMINUS="$(cd "$TARGET_DIR/release" && pwd)/tminus"
[[ -x "$TMINUS" ]] || { echo "no binary at $TMINUS" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tminus-bench.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then
  echo "keeping $WORK" >&2
else
  trap 'rm -rf "$WORK"' EXIT
fi

echo "==> generating $PAGES pages (seed $SEED) in $WORK" >&2
python3 bench/gen_project.py --pages "$PAGES" --seed "$SEED" \
  --tminus "$WORK/tminus" --hugo "$WORK/hugo" ${GEN_ARGS[@]+"${GEN_ARGS[@]}"} >&2

# measure NAME OUTDIR CLEAN CMD...: warm-up + RUNS runs, appending "NAME wall_s peak_kb cpu_s"
# lines. Each run writes into a new, empty OUTDIR.NAME.runN (the "@OUT@" argument); the last one
# becomes OUTDIR. Nothing is deleted until the script ends: on ext4 without a journal, as
# here, every inode allocation scans past the inodes freed in the last minutes, so deleting
# the previous run's 30,000 files and folders right before a run costs that run seconds of
# system time that a real first build does not pay. OUTDIR "-": the command's own output
# folder, kept between runs. CLEAN (a cache folder, or "-") is deleted before each run.
RESULTS="$WORK/results.txt"
: >"$RESULTS"
measure() {
  local name="$1" out="$2" clean="$3"
  shift 3
  local i dir args
  for ((i = 0; i <= RUNS; i++)); do
    dir="$out.$name.run$i"
    args=()
    for a in "$@"; do args+=("${a//@OUT@/$dir}"); done
    [[ "$clean" == - ]] || rm -rf "$clean"
    [[ -z "${BEFORE_EACH:-}" ]] || eval "$BEFORE_EACH"
    sync
    if ! "$TIME" -f '%e %M %U %S' -o "$WORK/time.txt" "${args[@]}" >"$WORK/$name.log" 2>&1; then
      echo "$name failed:" >&2
      cat "$WORK/$name.log" >&2
      exit 1
    fi
    local wall kb user sys cpu
    read -r wall kb user sys <"$WORK/time.txt"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u + s}')
    if ((i == 0)); then
      echo "    $name warm-up: ${wall}s wall, ${cpu}s cpu, $((kb / 1024)) MB" >&2
    else
      echo "    $name run $i: ${wall}s wall, ${cpu}s cpu, $((kb / 1024)) MB" >&2
      echo "$name $wall $kb $cpu" >>"$RESULTS"
    fi
  done
  if [[ "$out" != - ]]; then
    [[ ! -e "$out" ]] || mv "$out" "$out.before-$name"
    mv "$out.$name.run$RUNS" "$out"
  fi
}

echo "==> tminus $("$TMINUS" --version | awk '{print $2}') (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
# Cold: no caches (.tminus/cache deleted) — every code block goes through syntect.
measure tminus "$WORK/tminus-out" "$WORK/tminus/.tminus" "$TMINUS" --root "$WORK/tminus" build --out @OUT@
# Warm: the caches the previous build left (.tminus/cache: highlighted code, rendered
# documents, search documents), each run into a new, empty output folder - the first
# build of a checkout whose cache is kept (a CI cache, a second output folder).
measure tminus-warm "$WORK/tminus-out" - "$TMINUS" --root "$WORK/tminus" build --out @OUT@
TMINUS_FILES=$(find "$WORK/tminus-out" -name index.html | wc -l)
# Warm, with `site: { latest: symlink }`: latest/ is a link, not 10,000 more folders.
cp "$WORK/tminus/content/project.yaml" "$WORK/project.yaml.orig"
echo 'site: { latest: symlink }' >>"$WORK/tminus/content/project.yaml"
measure tminus-symlink "$WORK/tminus-out" - "$TMINUS" --root "$WORK/tminus" build --out @OUT@
cp "$WORK/project.yaml.orig" "$WORK/tminus/content/project.yaml"
# Rebuild: cache and output kept, sources unchanged (the warm-up makes latest/ a folder
# again and leaves the .prev-* generation the counted runs start from).
measure tminus-rebuild - - "$TMINUS" --root "$WORK/tminus" build --out "$WORK/tminus-out"
# Edit: cache and output kept, one guide edited before each run (a new word each time), so
# the search index is made again and that page rewritten - an author's edit-and-rebuild.
EDITED="$WORK/tminus/content/training/guide-00001.md"
BEFORE_EACH='printf "\nEdited before run %s: zqx%sedit.\n" "$i" "$i$RANDOM" >>"$EDITED"' \
  measure tminus-edit - - "$TMINUS" --root "$WORK/tminus" build --out "$WORK/tminus-out"
# What a rebuild writes: the index.html files with a new inode after one more (uncounted) run.
inodes() { find "$WORK/tminus-out" -path "$WORK/tminus-out/.*" -prune -o -name index.html -printf '%i %P\n' | sort; }
inodes >"$WORK/inodes.before"
"$TMINUS" --root "$WORK/tminus" build --out "$WORK/tminus-out" >/dev/null
REBUILD_FILES=$(inodes | comm -13 "$WORK/inodes.before" - | wc -l)
if ((HAVE_HUGO)); then
  HUGO_VERSION="$("$HUGO" version | awk '{print $2}')"
  echo "==> hugo $HUGO_VERSION (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  measure hugo "$WORK/hugo-out" - "$HUGO" --source "$WORK/hugo" --destination @OUT@ --quiet
  HUGO_FILES=$(find "$WORK/hugo-out" -name index.html | wc -l)
else
  HUGO_VERSION="-"
  HUGO_FILES=0
fi

# Median, pages/s, MB, ratio and targets, as a Markdown table.
python3 - "$RESULTS" "$PAGES" "$ENFORCE" "$TMINUS_FILES" "$HUGO_FILES" "$HUGO_VERSION" "$(nproc)" "$REBUILD_FILES" <<'PY'
import statistics, sys
path, pages, enforce, t_files, h_files, h_version, cores, r_files = sys.argv[1:]
pages, enforce = int(pages), int(enforce)
runs = {}
for line in open(path):
    name, wall, kb, cpu = line.split()
    runs.setdefault(name, []).append((float(wall), int(kb), float(cpu)))
stats = {}
for name, rs in runs.items():
    wall = statistics.median(r[0] for r in rs)
    mb = max(r[1] for r in rs) / 1024
    cpu = statistics.median(r[2] for r in rs)
    stats[name] = (wall, pages / wall if wall else float("inf"), mb, rs, cpu)
files = {"tminus": t_files, "tminus-warm": t_files, "tminus-symlink": int(t_files) // 2,
         "tminus-rebuild": r_files, "tminus-edit": "1 + index", "hugo": h_files}
print()
print("### Build benchmark: %d pages, %s cores, %d counted runs after 1 warm-up" % (pages, cores, len(runs["tminus"])))
print()
print("| tool | median wall (s) | pages/s | peak RSS (MB) | median CPU user+sys (s) | wall of each run (s) | index.html written |")
print("|---|---:|---:|---:|---:|---|---:|")
labels = {"tminus": "tminus, cold (no cache)", "tminus-warm": "tminus, warm caches, into an empty folder",
          "tminus-symlink": "tminus, warm, `latest: symlink`",
          "tminus-rebuild": "tminus, rebuild (cache and output kept, nothing changed)",
          "tminus-edit": "tminus, rebuild after editing one guide (search index made again)",
          "hugo": "hugo " + h_version}
for name in ("tminus", "tminus-warm", "tminus-symlink", "tminus-rebuild", "tminus-edit", "hugo"):
    if name in stats:
        wall, pps, mb, rs, cpu = stats[name]
        print("| %s | %.2f | %.0f | %.0f | %.2f | %s | %s |" % (
            labels[name], wall, pps, mb, cpu,
            ", ".join("%.2f" % r[0] for r in rs), files[name]))
if "hugo" in stats:
    t, h = stats["tminus"], stats["hugo"]
    print("| **tminus cold / hugo** | **%.2f×** | | **%.2f×** | **%.2f×** | | |" % (t[0] / h[0], t[2] / h[2], t[4] / h[4]))
print()
t = stats["tminus"]
scale = pages / 10000
w = stats["tminus-warm"]
checks = [
    ("cold wall < %.1f s" % (2 * scale), t[0] < 2 * scale),
    ("warm wall < %.1f s" % (2 * scale), w[0] < 2 * scale),
]
for name, label in (("tminus-rebuild", "rebuild"), ("tminus-edit", "edit")):
    if name in stats:
        checks.append(("%s wall < %.1f s" % (label, 2 * scale), stats[name][0] < 2 * scale))
checks.append(("peak RSS < 300 MB", max(s[2] for n, s in stats.items() if n != "hugo") < 300))
if "hugo" in stats:
    checks.append(("faster than Hugo", stats["tminus"][0] < stats["hugo"][0]))
print("Targets (wall scaled to %d pages): " % pages + ", ".join(
    "%s **%s**" % (label, "met" if good else "MISSED") for label, good in checks))
if enforce and not all(good for _, good in checks):
    sys.exit(1)
PY
