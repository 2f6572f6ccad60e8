// Which implementation the worker's few hand-written kernels use: the CPU kernel (loops and
// memcpy on host memory) or the device-agnostic one built from ATen operations, which GPUs
// run. use_cpu_kernel() is true for float32 tensors on the host unless generic kernels are
// forced, which tests do to run the device-agnostic path on a machine without a GPU and
// compare it with the CPU one. Which kernels these are and why they exist: docs/gpu.md,
// "Hand-written kernels".
#pragma once

#include <ATen/ATen.h>

namespace journey {

// Whether `t` takes the hand-written CPU kernel.
bool use_cpu_kernel(const at::Tensor& t);

// Forces the device-agnostic kernels everywhere (true) or restores the default (false).
void force_generic_kernels(bool force);

}  // namespace journey
