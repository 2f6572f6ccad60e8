#!/usr/bin/env bash
# Training speed of `journey train` against the Python reference training loop
# (tests/python/reference_model.py bench: the same model, masked AdamW and clipping in plain
# PyTorch), side by side: same model sizes, batch (2048 tokens), vocabulary (1024) and
# threads, each size run by both back to back, the whole table repeated. BENCHMARKS.md,
# "Worker training step", has the numbers.
#
#   bench/worker_bench.sh [BUILD_DIR] [REPEATS] [THREADS]     defaults: build 3 2
#
# tokens/s is the batch over the median wall time of a step after 3 warm-up steps (journey's
# from the per-step times in metrics.csv; evaluation and checkpoints are outside the step).
# The median, not the mean, because the machine may be shared: it ignores steps that other
# processes' bursts stretched, for both sides alike.
# MFU = (6 P + 12 L d s) B per step / step time / the float32 matmul peak each process
# measures for itself (1024^3 matmul, same threads), P = prunable (matmul) parameters.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
repeats=${2:-3}
threads=${3:-2}
python=/usr/bin/python3
batch=2048
vocab=1024
warmup=3
# size:seq_len:steps: the demo sizes (configs/demo.ini) and one larger model.
cases="32x2x2:64:60 48x2x2:64:60 64x2x4:64:40 256x4x4:128:12"

work=$(mktemp -d "${TMPDIR:-/tmp}/journey-worker-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/journey" prepare --data.sources="$root/tests/data/austen-emma.txt" \
  --data.vocab_size=$vocab --data.val_fraction=0.1 --data.dir="$work/data" > /dev/null

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "threads $threads, batch $batch tokens, vocabulary $vocab, $repeats repeats"
printf "%-8s %4s %3s | %13s %6s | %13s %6s | %5s\n" size seq rep "journey tok/s" MFU \
  "python tok/s" MFU ratio
for rep in $(seq "$repeats"); do
  for case in $cases; do
    IFS=: read -r size seq steps <<<"$case"
    IFS=x read -r d layers heads <<<"$size"
    flops=$(( (6 * (layers * 16 * d * d + vocab * d) + 12 * layers * d * seq) * batch ))

    "$build/journey" train --config "$root/configs/demo.ini" --data.dir="$work/data" \
      --model.d_model=$d --model.n_layers=$layers --model.n_heads=$heads --model.seq_len=$seq \
      --train.tokens=$((steps * batch)) --train.threads=$threads --prune.sparsity=0 \
      --train.eval_sequences=8 --train.checkpoint_every=0 --train.log_every=1000000 \
      --out "$work/run" --fresh > "$work/train.log" 2>&1 || { cat "$work/train.log"; exit 1; }
    # metrics.csv columns 9 and 10: tokens_per_s and mfu of each step; the median step.
    read -r cpp_tps cpp_mfu < <(awk -F, -v w=$warmup 'NR > 1 + w { print $9, $10 }' \
      "$work/run/metrics.csv" | sort -g | awk '{ t[NR] = $1; m[NR] = $2 }
        END { i = int((NR + 1) / 2); printf "%.0f %.4f\n", t[i], m[i] }')

    read -r py_step py_tps py_peak < <("$python" "$root/tests/python/reference_model.py" bench \
      --size "$size" --seq-len "$seq" --vocab $vocab --batch-tokens $batch \
      --steps $((steps + warmup)) --threads "$threads" |
      awk '{ print $2, $6, $8 }')
    py_mfu=$(awk -v f=$flops -v t="$py_step" -v p="$py_peak" 'BEGIN { printf "%.3f", f / t / p }')
    ratio=$(awk -v a="$cpp_tps" -v b="$py_tps" 'BEGIN { printf "%.2f", a / b }')
    printf "%-8s %4s %3s | %13s %5.1f%% | %13.0f %5.1f%% | %5s\n" "$size" "$seq" "$rep" \
      "$cpp_tps" "$(awk -v m="$cpp_mfu" 'BEGIN { print 100 * m }')" "$py_tps" \
      "$(awk -v m="$py_mfu" 'BEGIN { print 100 * m }')" "$ratio"
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
