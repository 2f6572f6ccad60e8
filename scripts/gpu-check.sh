#!/usr/bin/env bash
# The GPU checks, on a machine with an NVIDIA GPU and a CUDA PyTorch (the `device` tool's
# machine). Builds Journey against that PyTorch's LibTorch, with the other libraries from the
# system or from Debian packages unpacked by scripts/gpu-deps.sh (JOURNEY_GPU_DEPS, default
# .cache/gpu-deps: such a machine may have no package registry), then runs:
#   1. GPU against CPU on one batch: loss and gradients in float32 within 1e-4 relative
#      (WorkerTest.WorkerGpuMatchesTheCpuOnOneBatch);
#   2. the NCCL backend on one rank (journey_nccl_tests);
#   3. a sweep of 2 cells with train.device = cuda;
#   4. the throughput of the paper's 58M model (512x6x8, 2048 tokens, 32000 vocabulary) in
#      bf16 and fp32: tokens/s and MFU against the measured matmul peak of each dtype.
# About 5 minutes on an H200; the results go to $OUT/gpu-check.txt (OUT defaults to
# build-gpu). Record them in BENCHMARKS.md ("GPU").
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=${OUT:-$root/build-gpu}
mkdir -p "$out"
report=$out/gpu-check.txt
: > "$report"
say() { echo "$*" | tee -a "$report"; }

python=${PYTHON:-python3}
torch_info=$("$python" - <<'PY'
import torch, os
assert torch.cuda.is_available(), "this PyTorch sees no CUDA GPU"
print(os.path.join(torch.utils.cmake_prefix_path, "Torch"))
print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))
print(int(torch._C._GLIBCXX_USE_CXX11_ABI))
PY
)
torch_dir=$(sed -n 1p <<<"$torch_info")
say "torch: $(sed -n 2p <<<"$torch_info")"
if [ "$(sed -n 3p <<<"$torch_info")" != 1 ]; then
  say "gpu-check: this LibTorch uses the pre-C++11 string ABI, which Debian's C++ libraries do" \
      "not; use a PyTorch built with the C++11 ABI (pip wheels from 2.7 on)"
  exit 2
fi

deps=${JOURNEY_GPU_DEPS:-$root/.cache/gpu-deps}
if [ -d "$deps/usr" ]; then
  export CMAKE_PREFIX_PATH="$deps/usr:${CMAKE_PREFIX_PATH:-}"
  export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu:$deps/usr/lib:${LD_LIBRARY_PATH:-}"
  export PATH="$deps/usr/bin:$PATH"
  export OPAL_PREFIX="$deps/usr"  # Open MPI unpacked away from /usr.
fi
start=$(date +%s)
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DTorch_DIR="$torch_dir" \
  -DJOURNEY_NCCL=ON > "$out/cmake.log"
ninja -C build-gpu journey journey-torch journey_worker_tests journey_nccl_tests worker_bench \
  > "$out/build.log"
say "build: $(( $(date +%s) - start )) s"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
say "== 1. GPU against CPU"
build-gpu/tests/journey_worker_tests --gtest_filter='WorkerTest.WorkerGpu*' 2>&1 | tee -a "$report"
say "== 2. NCCL on one rank"
build-gpu/tests/journey_nccl_tests 2>&1 | tee -a "$report"

say "== 3. a sweep of 2 cells on the GPU"
data=$out/dataset
if [ ! -f "$data/manifest.json" ]; then
  build-gpu/journey prepare --data.sources=tests/data/austen-emma.txt --data.dir="$data" \
    --data.vocab_size=512 > "$out/prepare.log" 2>&1
fi
rm -rf "$out/sweep"
mpirun -np 2 --bind-to none build-gpu/journey sweep --config configs/demo.ini --out "$out/sweep" \
  --data.dir="$data" --data.vocab_size=512 --model.seq_len=64 --train.batch_tokens=4096 \
  --train.device=cuda --train.precision=bf16 --sweep.sizes=128x2x4 --sweep.sparsities="0 0.8" \
  --sweep.tokens_per_param=2 2>&1 | tail -n 8 | tee -a "$report"

say "== 4. throughput of the 58M model"
for precision in bf16 fp32; do
  build-gpu/bench/worker_bench --size 512x6x8 --seq-len 2048 --vocab 32000 \
    --batch-tokens 65536 --steps 10 --device cuda --precision $precision 2>&1 | tee -a "$report"
done
say "gpu-check: done in $(( $(date +%s) - start )) s"
