// Where a worker rank trains (train.device) and the collectives that reach that memory.
//
// cpu trains on the host with MPI collectives. cuda trains on GPU (local worker index % the
// node's GPUs), one rank per GPU, with NCCL collectives; it needs a LibTorch built with CUDA
// and the NCCL backend (mpi/nccl_collectives.h). auto takes a GPU when this build and
// machine have one, else the CPU.
#pragma once

#include <ATen/ATen.h>

#include <memory>

#include "common/collectives.h"
#include "common/config.h"
#include "mpi/mpi_session.h"

namespace journey {

// `local_worker_index`: this rank's index among the worker ranks on its node. Throws
// UsageError naming train.device when cuda is asked for and there is no GPU to use; warns
// when the node has more worker ranks than GPUs (ranks then share a GPU: slower, and its
// memory is split).
at::Device choose_device(DeviceKind kind, int local_worker_index);

// MPI collectives for the host, NCCL for a GPU (UsageError when this build has no NCCL),
// with train.collective_timeout_s as each call's deadline (common/collective_deadline.h).
std::unique_ptr<Collectives> make_device_collectives(const Communicator& comm, at::Device device,
                                                     double timeout_seconds);

}  // namespace journey
