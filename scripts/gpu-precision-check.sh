#!/usr/bin/env bash
# bf16 against fp32 on a GPU: the same 200-step run (a 256x4x4 model on DATASET) trained in
# each precision; the bf16 loss curve must stay within 1 % of the fp32 one at every step
# (means over windows of 10 steps, which the data order makes identical). Prints the largest
# relative gap and PASS or FAIL; exits 1 on FAIL.
#
#   scripts/gpu-precision-check.sh BUILD_DIR DATASET_DIR OUT_DIR [VOCAB]
set -euo pipefail
build=$1
data=$2
out=$3
vocab=${4:-512}
python=${PYTHON:-python3}
export OMPI_MCA_plm_rsh_agent=${OMPI_MCA_plm_rsh_agent-}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for precision in fp32 bf16; do
  rm -rf "$out/precision-$precision"
  "$build/journey" train --config configs/demo.ini --out "$out/precision-$precision" \
    --data.dir="$data" --data.vocab_size="$vocab" --model.d_model=256 --model.n_layers=4 \
    --model.n_heads=4 --model.seq_len=256 --train.batch_tokens=8192 --train.tokens=1638400 \
    --train.lr=1e-3 --train.eval_every=0 --train.log_every=50 --prune.sparsity=0.5 \
    --train.device=cuda --train.precision=$precision > "$out/precision-$precision.log" 2>&1
done
"$python" - "$out/precision-fp32/metrics.csv" "$out/precision-bf16/metrics.csv" <<'PY'
import csv, sys
def losses(path):
    return [float(r["loss"]) for r in csv.DictReader(open(path))]
fp32, bf16 = losses(sys.argv[1]), losses(sys.argv[2])
assert len(fp32) == len(bf16) == 200, (len(fp32), len(bf16))
window = 10
gaps = []
for i in range(0, len(fp32), window):
    a = sum(fp32[i:i + window]) / window
    b = sum(bf16[i:i + window]) / window
    gaps.append(abs(b - a) / a)
worst = max(gaps)
print("bf16 vs fp32, 200 steps: loss %.4f vs %.4f at the end, largest gap of 10-step means "
      "%.3f %% (limit 1 %%): %s" % (bf16[-1], fp32[-1], 100 * worst, "PASS" if worst <= 0.01 else "FAIL"))
sys.exit(0 if worst <= 0.01 else 1)
PY
