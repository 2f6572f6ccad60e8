#include "worker/threads.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

namespace journey {

int configure_threads(const TrainConfig& train, int ranks_on_node) {
  int threads = static_cast<int>(train.threads);
  if (threads <= 0) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::max(1, cores / std::max(1, ranks_on_node));
  }
  setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);
  at::set_num_threads(threads);
  return threads;
}

}  // namespace journey
