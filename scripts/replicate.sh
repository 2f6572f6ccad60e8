#!/usr/bin/env bash
# The CPU replication study (RESULTS.md): set up, prepare the dataset once, run the sweeps of
# experiments 1-5 on this machine, then collect their results into results/cpu-replication/
# and print the headline numbers. Every sweep resumes where it stopped, so the study can run
# across several sittings: run this again to continue.
#   scripts/replicate.sh            (about 3 hours on 2 cores)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
if [ ! -f .cache/datasets/demo/manifest.json ]; then
  build/journey prepare --config configs/cpu-replication.ini
fi
groups=$(nproc)
mpi_flags=(--oversubscribe --bind-to none)
[ "$(id -u)" -eq 0 ] && mpi_flags+=(--allow-run-as-root)
runs=runs/cpu-replication
results=results/cpu-replication

# sweep NAME CONFIG [OVERRIDES...]: one sweep into runs/cpu-replication/NAME.
sweep() {
  local name=$1 config=$2
  shift 2
  echo "== $name ($config $*)"
  local status=0
  mpirun -np $((groups + 1)) "${mpi_flags[@]}" build/journey sweep --config "$config" "$@" \
    --out "$runs/$name" || status=$?
  if [ "$status" -eq 75 ]; then
    echo "replicate: preempted during $name; run scripts/replicate.sh again to resume"
    exit 75
  fi
  [ "$status" -eq 0 ] || echo "replicate: $name ended with exit $status (see its report)"
}

sweep schedules configs/cpu-replication-schedules.ini  # experiment 1
sweep noise configs/cpu-replication-noise.ini
sweep matched configs/cpu-replication-matched.ini      # experiment 2
sweep law configs/cpu-replication.ini                  # experiment 3
# Experiment 4: the same cells with the query projections pruned or kept dense.
sweep exclude-global configs/cpu-replication-exclude.ini
sweep exclude-wq configs/cpu-replication-exclude.ini --prune.exclude='*.wq'
# Experiment 5: the law grid with lr tuned per size. First the scan (dense, 3 tokens per
# parameter; lr 3e-3 is the law grid's), then the grid. Its 144x3x4 cells are the law grid's
# own (the same lr, 3e-3), so only the two smaller sizes run again.
scan=(--sweep.sparsities=0 --sweep.tokens_per_param=3)
sweep lr-scan-1.5e-3 configs/cpu-replication.ini "${scan[@]}" --train.lr=1.5e-3
sweep lr-scan-6e-3 configs/cpu-replication.ini "${scan[@]}" --train.lr=6e-3
sweep lr-scan-1.2e-2 configs/cpu-replication.ini "${scan[@]}" --train.lr=1.2e-2 \
  --sweep.sizes='48x2x2 96x2x4'
sweep lr-scan-2.4e-2 configs/cpu-replication.ini "${scan[@]}" --train.lr=2.4e-2 \
  --sweep.sizes=48x2x2
sweep law-tuned-lr configs/cpu-replication-tuned-lr.ini --sweep.sizes='48x2x2 96x2x4' \
  --sweep.lr='48x2x2:1.2e-2 96x2x4:6e-3'

for ablation in global:exclude-global no-wq-pruning:exclude-wq; do
  mkdir -p "$results/exclude/${ablation%%:*}"
  cp "$runs/${ablation#*:}/results.csv" "$results/exclude/${ablation%%:*}/"
  python3 scripts/matrix_density.py "$runs/${ablation#*:}" \
    > "$results/exclude/${ablation%%:*}/matrix_density.csv"
done
mkdir -p "$results/tuned-lr"
# The law grid's settings, for results written before results.csv had these columns.
law_settings=(--fill lr=0.003 --fill batch_tokens=2048)
python3 scripts/merge_results.py "$runs"/lr-scan-*/results.csv \
  "$results/law/results.csv" --all --where sparsity=0 --where tokens_per_param=3 "${law_settings[@]}" \
  > "$results/tuned-lr/lr-scan.csv"
python3 scripts/merge_results.py "$runs/law-tuned-lr/results.csv" \
  "$results/law/results.csv" "${law_settings[@]}" > "$results/tuned-lr/results.csv"
build/journey fit "$results/tuned-lr" --threads "$groups" > "$results/tuned-lr/fit.txt"
# Its figures: the merged table has no ledger or training curves, so the report draws the
# final-loss figures (collapse, predicted, equal compute, residuals, frontier).
build/journey report "$results/tuned-lr" --out "$runs/tuned-lr-report.html" \
  --png-dir "$results/tuned-lr/figures"
python3 scripts/replication_summary.py "$runs" "$results"
