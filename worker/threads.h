// Intra-op threads per rank. train.threads = 0 means "this node's cores divided among the
// ranks on it", so one rank with 2 threads and 2 ranks with 1 thread each use the same
// machine. LibTorch's OpenMP pool and at::set_num_threads are set together.
#pragma once

#include "common/config.h"

namespace journey {

// Returns the thread count it set.
int configure_threads(const TrainConfig& train, int ranks_on_node);

}  // namespace journey
