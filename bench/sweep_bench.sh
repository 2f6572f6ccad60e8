#!/usr/bin/env bash
# Scheduling efficiency of the coordinator on a heterogeneous grid (BENCHMARKS.md,
# "Sweep scheduling"): sum of cell busy time / (groups x sweep wall time), and the
# coordinator's overhead per cell. Runs a fresh 12-cell sweep on 1 + 2 single-rank groups.
#   bench/sweep_bench.sh [build dir]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$build/test-fixtures/emma-v512
if [ ! -f "$data/manifest.json" ]; then
  "$build/journey" prepare --data.sources="$root/tests/data/austen-emma.txt" \
    --data.vocab_size=512 --data.val_fraction=0.1 --data.dir="$data"
fi
cat > "$work/grid.ini" <<INI
[model]
seq_len = 32
[train]
batch_tokens = 512
eval_sequences = 16
threads = 1
[data]
dir = $data
vocab_size = 512
[sweep]
sizes = 32x1x2 48x2x2 64x2x4
sparsities = 0 0.5
tokens_per_param = 1 2
INI
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun -np 3 --oversubscribe --bind-to none "$build/journey" sweep --config "$work/grid.ini" \
  --out "$work/out" > "$work/log" 2>&1
grep -E "^scheduling:" "$work/log"
