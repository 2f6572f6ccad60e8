#!/usr/bin/env bash
# The CPU replication study (RESULTS.md): set up, prepare the dataset once, run the four
# sweeps of the cpu-replication preset on this machine, then collect their results into
# results/cpu-replication/ and print the headline numbers. Every sweep resumes where it
# stopped, so the study can run across several sittings: run this again to continue.
#   scripts/replicate.sh            (about 2-3 hours on 2 cores)
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
for experiment in schedules noise matched law; do
  config=configs/cpu-replication-$experiment.ini
  [ "$experiment" = law ] && config=configs/cpu-replication.ini
  echo "== $experiment ($config)"
  status=0
  mpirun -np $((groups + 1)) "${mpi_flags[@]}" build/journey sweep --config "$config" \
    --out "runs/cpu-replication/$experiment" || status=$?
  if [ "$status" -eq 75 ]; then
    echo "replicate: preempted during $experiment; run scripts/replicate.sh again to resume"
    exit 75
  fi
  [ "$status" -eq 0 ] || echo "replicate: $experiment ended with exit $status (see its report)"
done
/usr/bin/python3 scripts/replication_summary.py runs/cpu-replication results/cpu-replication
