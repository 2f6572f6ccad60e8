// The float32 matrix-multiply throughput of this process, measured once: the denominator
// of MFU. It is measured on the same machine, threads and library as training, so MFU says
// how much of what this CPU can actually do the trainer achieves.
#pragma once

namespace journey {

// FLOP/s of a 1024 x 1024 x 1024 at::mm with the current intra-op thread count, best of
// several repetitions; measured on first call (about 0.3 s) and cached.
double matmul_peak_flops();

}  // namespace journey
