#include "worker/kernels.h"

#include <atomic>

namespace journey {
namespace {

std::atomic<bool> g_force_generic{false};

}  // namespace

bool use_cpu_kernel(const at::Tensor& t) {
  return t.is_cpu() && t.scalar_type() == at::kFloat && !g_force_generic.load();
}

void force_generic_kernels(bool force) {
  g_force_generic = force;
}

}  // namespace journey
