// The worker side of a sweep: every rank of a worker group runs this loop until the
// coordinator says shut down. The leader (group rank 0) receives each assignment, relays it
// to the group, and reports progress and the result; all ranks train the cell together
// (worker/trainer.h) on the group communicator.
//
// A cell that throws is reported as failed with the exception's text; the group then takes
// the next cell. Test hook: a cell whose id equals the environment variable
// JOURNEY_INJECT_FAILURE throws before training (tests/sweep_test uses it).
#pragma once

#include "comm/mpi_session.h"

namespace journey {

// `world` holds the coordinator at rank 0; `group` is this rank's worker group;
// `local_worker_index` is this rank's index among the workers on its node (its GPU, with
// train.device = cuda, worker/device.h).
void run_worker_group(const Communicator& world, const Communicator& group, int local_worker_index);

}  // namespace journey
