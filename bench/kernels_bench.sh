#!/usr/bin/env bash
# What the hand-written CPU kernels are worth: worker_bench's training step with the CPU
# kernels and with the device-agnostic ATen kernels (the GPU path, `--kernels generic`), side
# by side on the CPU, interleaved, each repeated. BENCHMARKS.md, "Worker training step",
# has the numbers.
#
#   bench/kernels_bench.sh [BUILD_DIR] [REPEATS]     defaults: build 5
#
# Prints, per size and thread count, the best and median step time of each kernel set over
# the repeats and their ratio (generic / cpu: above 1, the CPU kernels are faster).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${JOURNEY_PYTHON:-$root/.venv/bin/python}
build=${1:-build}
repeats=${2:-5}
# size:seq_len:steps: the demo sizes (configs/demo.ini) and one larger model.
cases="32x2x2:64:60 64x2x4:64:40 256x4x4:128:12"

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for threads in 1 2; do
  for ((rep = 0; rep < repeats; ++rep)); do
    for c in $cases; do
      IFS=: read -r size seq steps <<< "$c"
      for kernels in cpu generic; do
        OMP_NUM_THREADS=$threads "$build/bench/worker_bench" --size "$size" --seq-len "$seq" \
          --steps "$steps" --threads "$threads" --kernels "$kernels" |
          sed -n "s/.*step \([0-9.]*\) ms .*/$size $threads $kernels \1/p" >> "$results"
      done
    done
  done
done
echo "load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
"$python" - "$results" <<'PY'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    size, threads, kernels, ms = line.split()
    times.setdefault((size, int(threads)), {}).setdefault(kernels, []).append(float(ms))
print("%-8s %7s | %21s | %21s | %13s" % ("size", "threads", "cpu kernels ms", "generic ms",
                                          "generic / cpu"))
print("%-8s %7s | %10s %10s | %10s %10s | %6s %6s" % ("", "", "best", "median", "best",
                                                      "median", "best", "median"))
for (size, threads), k in times.items():
    c, g = k["cpu"], k["generic"]
    print("%-8s %7d | %10.2f %10.2f | %10.2f %10.2f | %6.2f %6.2f" % (
        size, threads, min(c), statistics.median(c), min(g), statistics.median(g),
        min(g) / min(c), statistics.median(g) / statistics.median(c)))
PY
