#!/usr/bin/env bash
# Scale benchmark (issue 16): the example project with a 100,000-person all-staff audience
# (bench/gen_scale_project.py: 7 zones, 2 locales; 600,311 deliveries), without a send
# ledger and with one of 200,000 lines (get-ready sent to everyone in the main wave).
#
#   bench/scale.sh                 # builds tminus in release, RUNS=3 runs of each row
#   TMINUS=/path/to/tminus bench/scale.sh   # another binary (e.g. an older revision's)
#
# Environment: PEOPLE (default 100000), RUNS (default 3), SENT (1 to 3: how many of the
# main wave's messages the ledger has sent to everyone, 2 lines each; default 1), NOW (the instant comms status and
# comms send --dry-run are run at; default 2027-03-15T13:30:00Z, when the main wave's
# get-ready is due in four of the seven zones), TMINUS, KEEP=1 keeps the projects.
#
# Each row runs RUNS times after one uncounted warm-up; wall time and peak RSS come from
# `/usr/bin/time -f '%e %M'`; the median wall time and the largest peak RSS are printed.
# `build, cold` deletes .tminus/cache/ and the output before each run; `build, warm` keeps
# the caches and builds into a new output folder each run. Prints a Markdown table (and the
# load average before each project: wall times mean little on a busy machine).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PEOPLE="${PEOPLE:-100000}"
RUNS="${RUNS:-3}"
NOW="${NOW:-2027-03-15T13:30:00Z}"
SENT="${SENT:-1}"
TIME=/usr/bin/time
[[ -x "$TIME" ]] || { echo "GNU time is needed at $TIME (apt-get install time)" >&2; exit 2; }

if [[ -z "${TMINUS:-}" ]]; then
  echo "==> cargo build --release" >&2
  cargo build --release --quiet --bin tminus
  TMINUS="$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)/tminus"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tminus-scale.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then echo "keeping $WORK" >&2; else trap 'rm -rf "$WORK"' EXIT; fi

python3 bench/gen_scale_project.py "$WORK/plain" --people "$PEOPLE" >&2
python3 bench/gen_scale_project.py "$WORK/ledger" --people "$PEOPLE" --ledger --sent "$SENT" >&2

# measure NAME PREPARE CMD: RUNS+1 runs of the shell command CMD (PREPARE, a shell snippet,
# before each; both see the run's number as $run); prints a table row.
measure() {
  local name="$1" prepare="$2" cmd="$3"
  local walls=() peak=0 run wall rss
  for run in $(seq 0 "$RUNS"); do
    eval "$prepare"
    eval "\"$TIME\" -f '%e %M' -o \"$WORK/time\" $cmd" >/dev/null 2>"$WORK/err" || {
      echo "failed: $cmd" >&2; cat "$WORK/err" >&2; exit 1; }
    read -r wall rss <"$WORK/time"
    [[ $run == 0 ]] && continue
    walls+=("$wall")
    (( rss > peak )) && peak=$rss
  done
  local median
  median=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  printf '| %s | %s s | %d MB | %s |\n' "$name" "$median" "$((peak / 1024))" "$(IFS=,; echo "${walls[*]}" | sed 's/,/, /g')"
}

for project in plain ledger; do
  root="$WORK/$project"
  t="\"$TMINUS\" --root \"$root\""
  echo
  if [[ $project == ledger ]]; then what="ledger of $((2 * SENT * PEOPLE)) lines"; else what="no ledger"; fi
  echo "### $project ($what), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| command | median wall | peak RSS | each run |"
  echo "|---|---:|---:|---|"
  measure "build, cold" "rm -rf '$root/.tminus/cache' '$root/output'" "$t build"
  measure "build, warm (caches kept, new output folder)" ":" "$t build --out \"$WORK/$project-out-\$run\""
  measure "comms list" ":" "$t comms list"
  measure "comms list --format json" ":" "$t comms list --format json"
  measure "comms status" ":" "$t comms status --now $NOW"
  measure "comms status --format json" ":" "$t comms status --format json --now $NOW"
  measure "comms send --due --dry-run" ":" "$t comms send --due --dry-run --now $NOW"
done
