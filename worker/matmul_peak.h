// The matrix-multiply throughput of this process, measured once per device and dtype: the
// denominator of MFU. It is measured on the same machine, threads and library as training,
// so MFU says how much of what this hardware can actually do the trainer achieves.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace journey {

// FLOP/s of an n x n x n at::mm (1024 on the CPU with the current intra-op thread count,
// 8192 on a GPU), best of repetitions over about 0.3 s; measured on first call and cached.
double matmul_peak_flops(c10::Device device = c10::kCPU,
                         c10::ScalarType dtype = c10::ScalarType::Float);

}  // namespace journey
