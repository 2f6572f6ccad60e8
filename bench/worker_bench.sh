#!/usr/bin/env bash
# Training speed of `journey train` against the Python reference training loop
# (tests/python/reference_model.py bench: the same model, masked AdamW and clipping in plain
# PyTorch), side by side: same model sizes, batch (2048 tokens), vocabulary (1024) and
# threads, each size run by both back to back, the whole table repeated. BENCHMARKS.md,
# "Worker training step", has the numbers.
#
#   bench/worker_bench.sh [BUILD_DIR] [REPEATS] [THREADS]     defaults: build 3 2
#
# Step times are wall times after 3 warm-up steps (journey's from the per-step tokens/s in
# metrics.csv; evaluation and checkpoints are outside the step). Two summaries per run:
#   median  the batch over the median step time;
#   best    the batch over the shortest step time. On a shared machine other processes only
#           ever add time, so the shortest step is the closest to the uncontended speed, and
#           it is measured like the matmul peak (best of several).
# MFU = (6 P + 12 L d s) B per step / best step time / the float32 matmul peak each process
# measures for itself (1024^3 matmul, same threads, best of 0.3 s), P = prunable (matmul)
# parameters, L layers, d width, s sequence length, B tokens per step.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
repeats=${2:-3}
threads=${3:-2}
python=${JOURNEY_PYTHON:-$root/.venv/bin/python}
batch=2048
vocab=1024
warmup=3
# size:seq_len:steps: the demo sizes (configs/demo.ini) and one larger model.
cases="32x2x2:64:60 48x2x2:64:60 64x2x4:64:40 256x4x4:128:12"

work=$(mktemp -d "${TMPDIR:-/tmp}/journey-worker-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/journey" prepare --data.sources="$root/tests/data/austen-emma.txt" \
  --data.vocab_size=$vocab --data.val_fraction=0.1 --data.dir="$work/data" > /dev/null 2>&1

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "threads $threads, batch $batch tokens, vocabulary $vocab, $repeats repeats"
echo "tokens/s as median / best step; MFU of the best step; ratio = journey / python"
printf "%-8s %4s %3s | %17s %5s | %17s %5s | %11s\n" size seq rep "journey tok/s" MFU \
  "python tok/s" MFU "ratio"
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
    # metrics.csv columns 9 and 10: tokens_per_s and mfu of each step.
    read -r cpp_median cpp_best cpp_mfu < <(awk -F, -v w=$warmup 'NR > 1 + w { print $9, $10 }' \
      "$work/run/metrics.csv" | sort -g | awk '{ t[NR] = $1; m[NR] = $2 }
        END { printf "%.0f %.0f %.4f\n", t[int((NR + 1) / 2)], t[NR], m[NR] }')

    read -r py_step py_best py_peak < <("$python" "$root/tests/python/reference_model.py" bench \
      --size "$size" --seq-len "$seq" --vocab $vocab --batch-tokens $batch \
      --steps $((steps + warmup)) --threads "$threads" | awk '{ print $2, $4, $10 }')
    awk -v size="$size" -v seq="$seq" -v rep="$rep" -v b=$batch -v f=$flops \
      -v cm="$cpp_median" -v cb="$cpp_best" -v cmfu="$cpp_mfu" \
      -v ps="$py_step" -v pb="$py_best" -v pp="$py_peak" 'BEGIN {
        pm = b / ps; pbest = b / pb
        printf "%-8s %4s %3s | %8.0f / %6.0f %4.0f%% | %8.0f / %6.0f %4.0f%% | %4.2f / %4.2f\n",
               size, seq, rep, cm, cb, 100 * cmfu, pm, pbest, 100 * f / pb / pp, cm / pm, cb / pbest
      }' | tee -a "$work/rows"
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
# Per size over all repeats: the best step of each side (and its MFU), and the median of the
# per-run median ratios.
echo
echo "summary over $repeats repeats: best step of all runs, median of the median ratios"
printf "%-8s | %13s %5s | %13s %5s | %10s %12s\n" size "journey tok/s" MFU "python tok/s" MFU \
  "best ratio" "median ratio"
for case in $cases; do
  size=${case%%:*}
  awk -v size="$size" '$1 == size {
      gsub("%", ""); n++
      if ($7 > cb) { cb = $7; cm = $8 }
      if ($12 > pb) { pb = $12; pm = $13 }
      r[n] = $15
    }
    END {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
      printf "%-8s | %13.0f %4.0f%% | %13.0f %4.0f%% | %10.2f %12.2f\n",
             size, cb, cm, pb, pm, cb / pb, r[int((n + 1) / 2)]
    }' "$work/rows"
done
