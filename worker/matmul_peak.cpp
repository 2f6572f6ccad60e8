#include "worker/matmul_peak.h"

#include <ATen/ATen.h>

#include <chrono>

namespace journey {

double matmul_peak_flops() {
  static const double peak = [] {
    const int64_t n = 1024;
    at::Tensor a = at::randn({n, n}), b = at::randn({n, n}), c = at::empty({n, n});
    at::mm_out(c, a, b);  // Warm-up: thread pool, caches.
    double best = 0.0;
    const auto start = std::chrono::steady_clock::now();
    do {
      const auto t0 = std::chrono::steady_clock::now();
      at::mm_out(c, a, b);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::max(best, 2.0 * n * n * n / s);
    } while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300));
    return best;
  }();
  return peak;
}

}  // namespace journey
