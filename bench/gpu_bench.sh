#!/usr/bin/env bash
# Journey's training step on a GPU against the PyTorch a PyTorch user would write for the same
# model (tests/python/fast_reference.py: nn.Linear, SDPA, autocast, fused AdamW, clipping and
# a 50 % weight mask), at the paper's sizes: 58M (512x6x8, 65536 tokens/step) and 470M
# (1024x24x16, 16384 and 32768 tokens/step), sequence length 2048, vocabulary 32000, bf16.
# Per config, back to back: Journey (bench/worker_bench), the reference eager and, with
# --compile, the reference under torch.compile. On a machine with an NVIDIA GPU and a CUDA
# PyTorch (the `device` tool's machine), after scripts/gpu-check.sh has built build-gpu.
# BENCHMARKS.md, "GPU", has the numbers.
#
#   bench/gpu_bench.sh [--compile]
#
# Environment (defaults): BUILD (build-gpu: its bench/worker_bench), OUT (build-gpu),
# PYTHON (python3), STEPS (10 timed steps), DEVICE (cuda), PRECISION (bf16), SEQ_LEN (2048),
# VOCAB (32000), CONFIGS ("512x6x8:65536 1024x24x16:16384 1024x24x16:32768", each
# size:tokens_per_step), THREADS (unset: each program's default; else --threads for both),
# JOURNEY_BENCH_ARGS (extra flags for worker_bench). Relative paths are from the repository
# root. A tiny CPU run checks the script itself (the ctest entry gpu_bench_script runs it):
#   DEVICE=cpu PRECISION=fp32 CONFIGS=64x2x4:2048 SEQ_LEN=64 VOCAB=1024 THREADS=2 \
#     BUILD=build OUT=/tmp PYTHON=.venv/bin/python bench/gpu_bench.sh
#
# Prints each program's result line as it comes (worker_bench's prefixed "journey "), then a
# markdown table: per config, tokens/s, MFU (each process against its own measured matmul
# peak in the step's dtype) and peak GPU memory (GiB, max allocated) of Journey and of the
# reference, and the ratio of tokens/s Journey / reference. A run that runs out of memory
# shows "OOM", one that fails otherwise "failed" (its last output lines are printed). All of
# it also goes to $OUT/gpu-bench.txt.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
compile=0
case "${1:-}" in
  --compile) compile=1 ;;
  "") ;;
  *) echo "usage: bench/gpu_bench.sh [--compile]" >&2; exit 2 ;;
esac
build=${BUILD:-$root/build-gpu}
out=${OUT:-$root/build-gpu}
python=${PYTHON:-python3}
steps=${STEPS:-10}
device=${DEVICE:-cuda}
precision=${PRECISION:-bf16}
seq=${SEQ_LEN:-2048}
vocab=${VOCAB:-32000}
configs=${CONFIGS:-512x6x8:65536 1024x24x16:16384 1024x24x16:32768}
read -ra extra <<< "${JOURNEY_BENCH_ARGS:-}"
threads=()
if [[ -n ${THREADS:-} ]]; then threads=(--threads "$THREADS"); fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # worker_bench is an MPI program.

mkdir -p "$out"
report=$out/gpu-bench.txt
: > "$report"
say() { echo "$*" | tee -a "$report"; }
rows=$(mktemp "${TMPDIR:-/tmp}/journey-gpu-bench-XXXXXX")
trap 'rm -f "$rows"' EXIT

# Runs a command; prints its result line (the last line with "tokens/s" or "out of memory")
# and the reference's "# " notes line, or on failure its last output lines, to the report;
# sets `result` to "TOKENS_PER_S MFU PEAK_GIB" ("-" for a missing field), "OOM" or "failed".
measure() {
  local tag=$1 output rc=0 line
  shift
  output=$("$@" 2>&1) || rc=$?
  line=$(grep -E '[0-9.]+ tokens/s\b|out of memory' <<< "$output" | tail -n 1 || true)
  { grep '^# ' <<< "$output" || true; } | while IFS= read -r note; do say "$tag$note"; done
  if [[ $line == *"out of memory"* ]] ||
    { [[ $rc -ne 0 || -z $line ]] && grep -qi 'out of memory' <<< "$output"; }; then
    say "$tag${line:-out of memory (exit status $rc)}"
    result=OOM
  elif [[ $rc -ne 0 || -z $line ]]; then
    say "${tag:-reference }failed with exit status $rc: $*"
    tail -n 5 <<< "$output" | while IFS= read -r l; do say "  $l"; done
    result=failed
  else
    say "$tag$line"
    local tok mfu mem
    tok=$(sed -nE 's/.*[^0-9.]([0-9.]+) tokens\/s\b.*/\1/p' <<< "$line")
    mfu=$(sed -nE 's/.*MFU ([0-9.]+)%.*/\1/p' <<< "$line")
    mem=$(sed -nE 's/.*peak memory ([0-9.]+) GiB.*/\1/p' <<< "$line")
    result="${tok:--} ${mfu:--} ${mem:--}"
  fi
}

# A result as 3 fields: "OOM", "failed" or "-" (not run) fill the other two with "-".
fields() { if [[ $1 == *" "* ]]; then echo "$1"; else echo "$1 - -"; fi; }

gpu=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | head -n 1 ||
  true)
torch_version=$("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo "?")
say "machine: ${gpu:-no nvidia-smi}; $(nproc) cores; torch $torch_version"
say "device $device, $precision, seq $seq, vocabulary $vocab, $steps timed steps;" \
  "worker_bench extra flags: ${JOURNEY_BENCH_ARGS:-none}"
for config in $configs; do
  IFS=: read -r size tokens <<< "$config"
  common=(--size "$size" --seq-len "$seq" --vocab "$vocab" --batch-tokens "$tokens"
          --steps "$steps" --device "$device" --precision "$precision" "${threads[@]}")
  measure "journey " "$build/bench/worker_bench" "${common[@]}" "${extra[@]}"
  journey=$result
  measure "" "$python" tests/python/fast_reference.py "${common[@]}"
  eager=$result
  compiled="-"
  if ((compile)); then
    measure "" "$python" tests/python/fast_reference.py "${common[@]}" --compile
    compiled=$result
  fi
  # One row: size, tokens, then 3 fields each for Journey, eager and compile.
  echo "$size $tokens $(fields "$journey") $(fields "$eager") $(fields "$compiled")" >> "$rows"
done

say
{
  if ((compile)); then
    echo "| model | tokens/step | Journey tokens/s | MFU | peak GiB | eager tokens/s | MFU |" \
      "peak GiB | compile tokens/s | Journey/eager | Journey/compile |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  else
    echo "| model | tokens/step | Journey tokens/s | MFU | peak GiB | eager tokens/s | MFU |" \
      "peak GiB | Journey/eager |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  fi
  awk -v compile="$compile" -v vocab="$vocab" '
    function num(x) { return x ~ /^[0-9]+(\.[0-9]*)?$/ }
    function rate(x) { return num(x) ? sprintf("%.0f", x) : x }
    function pct(x) { return num(x) ? x "%" : x }
    function ratio(a, b) { return num(a) && num(b) && b > 0 ? sprintf("%.2f", a / b) : "-" }
    {
      split($1, s, "x"); d = s[1]; l = s[2]
      params = l * 16 * d * d + 2 * vocab * d
      name = $1 == "512x6x8" && vocab == 32000 ? "58M" : \
             $1 == "1024x24x16" && vocab == 32000 ? "470M" : sprintf("%.1fM", params / 1e6)
      row = sprintf("| %s (%s) | %s | %s | %s | %s | %s | %s | %s |", name, $1, $2,
                    rate($3), pct($4), $5, rate($6), pct($7), $8)
      if (compile) row = row sprintf(" %s | %s | %s |", rate($9), ratio($3, $6), ratio($3, $9))
      else row = row sprintf(" %s |", ratio($3, $6))
      print row
    }' "$rows"
} | tee -a "$report"
