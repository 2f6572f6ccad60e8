// Which implementation the worker's few hand-written kernels use.
//
// The host's RMSNorm node, the target column of the cross-entropy gradient, the pruning
// histograms and mask updates, and the FSDP buffer copies each have a CPU kernel (raw loops
// and memcpy on host memory, or fewer recorded operations; BENCHMARKS.md "Worker training
// step", bench/kernels_bench.sh) and a device-agnostic one built from ATen operations, which
// GPUs run. The CPU kernels serve float32 tensors on the
// host unless generic kernels are forced, which tests do to run the device-agnostic path on a
// machine without a GPU and compare it with the CPU one.
#pragma once

#include <ATen/ATen.h>

namespace journey {

// Whether `t` takes the hand-written CPU kernel.
bool use_cpu_kernel(const at::Tensor& t);

// Forces the device-agnostic kernels everywhere (true) or restores the default (false).
void force_generic_kernels(bool force);

}  // namespace journey
