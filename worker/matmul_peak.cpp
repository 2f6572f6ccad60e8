#include "worker/matmul_peak.h"

#include <ATen/ATen.h>

#include <chrono>
#include <map>
#include <mutex>
#include <utility>

namespace journey {
namespace {

double measure(c10::Device device, c10::ScalarType dtype) {
  const int64_t n = device.is_cpu() ? 1024 : 8192;
  const int repeats = device.is_cpu() ? 1 : 10;
  const auto options = at::TensorOptions().device(device).dtype(dtype);
  at::Tensor a = at::randn({n, n}, options), b = at::randn({n, n}, options),
             c = at::empty({n, n}, options);
  at::mm_out(c, a, b);  // Warm-up: thread pool, caches, kernels.
  c.sum().item<double>();
  double best = 0.0;
  const auto start = std::chrono::steady_clock::now();
  do {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < repeats; ++i) at::mm_out(c, a, b);
    c.sum().item<double>();  // Waits for a GPU's queue; cheap beside the products.
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * n * n * n * repeats / s);
  } while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300));
  return best;
}

}  // namespace

double matmul_peak_flops(c10::Device device, c10::ScalarType dtype) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, int>, double> measured;
  const std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_pair(device.str(), static_cast<int>(dtype));
  auto it = measured.find(key);
  if (it == measured.end()) it = measured.emplace(key, measure(device, dtype)).first;
  return it->second;
}

}  // namespace journey
