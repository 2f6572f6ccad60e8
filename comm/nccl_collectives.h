// The NCCL backend of Collectives: GPU memory, one NCCL communicator per worker group, set up
// over the group's MPI communicator (rank 0 makes the ncclUniqueId, MPI broadcasts it).
//
// Built only where the CUDA toolkit and NCCL are found (CMake option JOURNEY_NCCL); a CPU
// build has MpiCollectives alone. Collectives run on the legacy default CUDA stream, the one
// ATen's kernels use in a program that sets no other, and each call synchronizes it before it
// returns, as the interface promises. Buffers may be device or host memory: host buffers (the
// scalars and small vectors the trainer reduces) go through a device scratch buffer.
//
// Errors: std::runtime_error with CUDA's or NCCL's message for a failed call, e.g. when no
// GPU is visible.
#pragma once

#include <memory>

#include "comm/mpi_session.h"
#include "common/collectives.h"

namespace journey {

// Collectives over `comm` on GPU `cuda_device` (which becomes this process's current device).
// `comm` must outlive the object.
std::unique_ptr<Collectives> make_nccl_collectives(const Communicator& comm, int cuda_device);

}  // namespace journey
