// Where a worker rank trains (train.device) and the collectives that reach that memory.
//
// cpu trains on the host with MPI collectives. cuda trains on GPU (local worker index % the
// node's GPUs), one rank per GPU, with NCCL collectives; it needs a LibTorch built with CUDA
// and the NCCL backend (comm/nccl_collectives.h). auto takes a GPU when this build and
// machine have one, else the CPU.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "comm/mpi_session.h"
#include "common/collectives.h"
#include "common/config.h"

namespace journey {

// `local_worker_index`: this rank's index among the worker ranks on its node. Throws
// UsageError naming train.device when cuda is asked for and there is no GPU to use; warns
// when the node has more worker ranks than GPUs (ranks then share a GPU: slower, and its
// memory is split).
at::Device choose_device(DeviceKind kind, int local_worker_index);

// The Collectives backend named `backend` (train.collectives: "auto" takes MPI for the host,
// NCCL for a GPU), with `timeout_seconds` (train.collective_timeout_s) as each call's deadline
// (common/collective_deadline.h). UsageError naming the key when this build has no such
// backend or it cannot move this device's memory.
std::unique_ptr<Collectives> make_device_collectives(const Communicator& comm, at::Device device,
                                                     const std::string& backend,
                                                     double timeout_seconds);

}  // namespace journey
