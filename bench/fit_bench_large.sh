#!/usr/bin/env bash
# `journey fit` on a large results table, the whole command (BENCHMARKS.md, "Scaling-law fit",
# "Large tables"): read ROWS runs, fit the three Chinchilla laws and the sparse law, 1000
# bootstrap resamples, validation, write fit.json and fit.csv. The table is synthetic
# (bench/fit_bench --write-table: 5,400 sweep cells repeated with new noise). Given
# OLD_BUILD_DIR, a build of an older commit (e.g. one made from `git archive HEAD`), its journey
# runs the same command on the same table right after, stopped after OLD_TIMEOUT seconds
# (default 900), and the ratio is printed.
#
#   bench/fit_bench_large.sh [BUILD_DIR] [ROWS] [OLD_BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
rows=${2:-54000}
old=${3:-}
old_timeout=${OLD_TIMEOUT:-900}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$build/bench/fit_bench" --write-table "$work/runs.csv" --rows "$rows"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "table: $rows runs ($(du -h "$work/runs.csv" | cut -f1))"

# run NAME JOURNEY TIMEOUT: prints "NAME wall_s W cpu_s C" (wall "> TIMEOUT" when stopped).
run() {
  local status=0
  /usr/bin/time -f "%e %U %S" -o "$work/$1.time" \
      timeout "$3" "$2" fit "$work/runs.csv" --out "$work/$1" > "$work/$1.out" 2>&1 || status=$?
  read -r wall user sys < <(tail -1 "$work/$1.time")
  local cpu
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')
  if [ "$status" = 124 ]; then
    echo "$1 wall_s >$3 cpu_s >$cpu (stopped after ${3} s)"
  elif [ "$status" != 0 ]; then
    echo "$1 failed with exit $status:"; cat "$work/$1.out"; exit 1
  else
    echo "$1 wall_s $wall cpu_s $cpu"
  fi
}

run new "$build/journey" 3600 | tee "$work/new.line"
grep -E "^(best size variable|note)" "$work/new.out" || true
if [ -n "$old" ]; then
  run old "$old/journey" "$old_timeout" | tee "$work/old.line"
  new_wall=$(awk '{print $3}' "$work/new.line")
  old_wall=$(awk '{print $3}' "$work/old.line")
  awk -v n="$new_wall" -v o="$old_wall" 'BEGIN {
    if (substr(o, 1, 1) == ">") printf "ratio (old / new wall): more than %.0fx\n", substr(o, 2) / n;
    else printf "ratio (old / new wall): %.1fx\n", o / n }'
fi
