#!/usr/bin/env bash
# The README's test command: set up everything, build, run every test, then compile the CUDA
# build (scripts/cuda-build.sh; JOURNEY_SKIP_CUDA_BUILD=1 skips it with a SKIPPED line) and
# fuzz each reader of untrusted files for a bounded time (scripts/fuzz.sh, 30 s per target;
# JOURNEY_SKIP_FUZZ=1 skips it with a SKIPPED line).
set -euo pipefail
# One node, no remote shell needed: Open MPI must not look for ssh/rsh (README).
export OMPI_MCA_plm_rsh_agent=${OMPI_MCA_plm_rsh_agent-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root/build"
status=0
ctest --output-on-failure --timeout 1200 "$@" || status=$?
if [ "${JOURNEY_SKIP_CUDA_BUILD:-0}" = 1 ]; then
  echo "cuda build: SKIPPED (JOURNEY_SKIP_CUDA_BUILD=1)"
else
  "$root/scripts/cuda-build.sh" || status=$?
fi
if [ "${JOURNEY_SKIP_FUZZ:-0}" = 1 ]; then
  echo "fuzz: SKIPPED (JOURNEY_SKIP_FUZZ=1)"
else
  "$root/scripts/fuzz.sh" || status=$?
fi
exit "$status"
