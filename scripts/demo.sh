#!/usr/bin/env bash
# The README's main job: set up everything, prepare the demo dataset (once), then run the
# demo sweep on this machine: a coordinator and one single-rank worker group per core.
# Results, fit and report land in runs/demo. Running it again resumes or reports.
set -euo pipefail
# One node, no remote shell needed: Open MPI must not look for ssh/rsh (README).
export OMPI_MCA_plm_rsh_agent=${OMPI_MCA_plm_rsh_agent-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
if [ ! -f .cache/datasets/demo/manifest.json ]; then
  build/journey prepare --config configs/demo.ini
fi
groups=$(nproc)
mpi_flags=(--oversubscribe --bind-to none)
[ "$(id -u)" -eq 0 ] && mpi_flags+=(--allow-run-as-root)
mpirun -np $((groups + 1)) "${mpi_flags[@]}" build/journey sweep --config configs/demo.ini \
  --out runs/demo "$@"
