// The MPI backend of Collectives: host memory, one MPI communicator per worker group.
#pragma once

#include <memory>

#include "comm/mpi_session.h"
#include "common/collectives.h"

namespace journey {

// Collectives over `comm` on host memory. `comm` must outlive the object.
std::unique_ptr<Collectives> make_mpi_collectives(const Communicator& comm);

}  // namespace journey
