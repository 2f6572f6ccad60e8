#!/usr/bin/env bash
# The CUDA build, compiled and linked on any machine (no GPU needed), so that CI catches what
# breaks a GPU node's build: Journey's torch-dependent code against PyTorch's CUDA wheel
# (torch 2.14.1 in .venv-cuda), the NCCL backend against the wheel's NCCL, linked with the
# system linker (no lld), and -Werror. Only what differs with CUDA is built: the worker
# and coordinator libraries, journey-torch, the NCCL test and worker_bench.
#
#   scripts/cuda-build.sh          (scripts/test.sh runs it)
#
# Prints one line "cuda build: SKIPPED (why)" and exits 0 where the CUDA wheel or the CUDA
# toolkit is not available; exits non-zero when the build itself fails.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${JOURNEY_CUDA_BUILD_DIR:-$root/build-cuda}
venv=$root/.venv-cuda

skip() {
  echo "cuda build: SKIPPED ($*)"
  exit 0
}

[ -x /usr/local/cuda/bin/nvcc ] || command -v nvcc > /dev/null ||
  skip "no CUDA toolkit: nvcc not found in /usr/local/cuda or on PATH"
if ! "$root/scripts/venv.sh" "$venv" "$root/scripts/requirements-cuda.txt" > "$root/.cuda-venv.log" 2>&1; then
  skip "the CUDA wheel torch==2.14.1 could not be installed: $(grep -m1 ERROR "$root/.cuda-venv.log" || tail -n 1 "$root/.cuda-venv.log")"
fi
torch_prefix=$("$venv/bin/python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)' 2>/dev/null)

if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_PREFIX_PATH="$torch_prefix" \
    -DJOURNEY_NCCL=ON -DJOURNEY_USE_LLD=OFF -DCMAKE_CXX_FLAGS=-Werror \
    -DJOURNEY_PYTHON="$venv/bin/python" > "$build_dir.cmake.log" 2>&1 || {
    tail -n 30 "$build_dir.cmake.log"
    echo "cuda build: configure FAILED (log: $build_dir.cmake.log)"
    exit 1
  }
fi
start=$(date +%s)
ninja -C "$build_dir" journey-torch journey_nccl_tests worker_bench
echo "cuda build: journey-torch, journey_nccl_tests and worker_bench built against torch" \
  "$("$venv/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null) in $(( $(date +%s) - start )) s"
