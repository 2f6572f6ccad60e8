#!/usr/bin/env bash
# FSDP worker groups (BENCHMARKS.md, "FSDP groups"): one model trained the same way by
#   k = 1 rank x 2 threads   and   k = 2 ranks x 1 thread   (the same 2 cores), the latter
# also without prefetch (train.fsdp_prefetch = false), and k = 3, 4 (oversubscribed: for
# memory only). Prints per k: mean step time, its ratio to 1 x 2, the
# share of step time in collectives and in pruning events, the sharded state per rank and
# each rank's peak RSS.
#   bench/fsdp_bench.sh [build dir] [model DxLxH] [steps]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${JOURNEY_PYTHON:-$root/.venv/bin/python}
build=${1:-$root/build}
size=${2:-128x4x4}
steps=${3:-80}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$build/test-fixtures/emma-v512
if [ ! -f "$data/manifest.json" ]; then
  "$build/journey" prepare --data.sources="$root/tests/data/austen-emma.txt" \
    --data.vocab_size=512 --data.val_fraction=0.1 --data.dir="$data" > /dev/null
fi
IFS=x read -r d l h <<< "$size"
cat > "$work/model.ini" <<INI
[model]
d_model = $d
n_layers = $l
n_heads = $h
seq_len = 64
[train]
batch_tokens = 4096
tokens = $((steps * 4096))
eval_sequences = 8
log_every = 1000
[prune]
sparsity = 0.8
interval = 4
[data]
dir = $data
vocab_size = 512
INI
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run() {  # name ranks threads [flags...]
  local name=$1 ranks=$2 threads=$3
  shift 3
  mpirun -np "$ranks" --oversubscribe --bind-to none "$build/journey" train \
    --config "$work/model.ini" --out "$work/$name" --fresh --train.threads="$threads" "$@" \
    > "$work/$name.log" 2>&1
}
for _ in 1 2; do  # interleaved: the machine is shared
  run k1t2 1 2
  run k2t1 2 1
  run k2t1-noprefetch 2 1 --train.fsdp_prefetch=false
done
run k3t1 3 1
run k4t1 4 1
"$python" - "$work" "$steps" <<'PY'
import json, sys
work, steps = sys.argv[1], int(sys.argv[2])
rows = []
for name, label in [("k1t2", "1 x 2"), ("k2t1", "2 x 1"),
                    ("k2t1-noprefetch", "2 x 1, no prefetch"), ("k3t1", "3 x 1"),
                    ("k4t1", "4 x 1")]:
    s = json.load(open(f"{work}/{name}/summary.json"))
    sec = s["seconds"]
    rows.append((label, sec["steps"] / s["steps_done"], sec["collectives"] / sec["steps"],
                 sec["pruning"] / sec["steps"], s["sharded_state_mb_per_rank"],
                 max(s["peak_rss_mb_per_rank"])))
base = rows[0][1]
print(f"{'k x threads':>20} {'step ms':>8} {'vs 1x2':>7} {'collect.':>9} {'pruning':>8}"
      f" {'state MB/rank':>14} {'peak RSS MB':>12}")
for label, step, coll, prune, state, rss in rows:
    print(f"{label:>20} {1000 * step:8.1f} {base / step:7.2f} {100 * coll:8.1f}% "
          f"{100 * prune:7.2f}% {state:14.2f} {rss:12.0f}")
PY
