// The coordinator side of a sweep (rank 0): hands cells to worker groups, longest first,
// keeps the ledger and the results table current after every event, shows live progress,
// relays preemption, and at the end runs the scaling-law fit and the report.
//
// Resume is the same command on the same directory: finished cells are skipped, unfinished
// ones resume from their newest checkpoints (on any group size), failed ones too but only
// with retry_failed; diverged ones never (the same config diverges again).
//
// Exit codes (common/exit_codes.h): 0 every cell done; 1 some cell failed; 75 preempted
// (SIGTERM/SIGUSR2 to the coordinator or to any worker): all groups checkpointed, run the
// same command again to resume. 75 also when a group stopped answering (a dead or hung rank):
// its cell goes back to preempted (it resumes from its newest checkpoint), the others finish
// the grid, and the launch is ended with an abort (its ranks may be where only that reaches).
#pragma once

#include <string>
#include <vector>

#include "comm/mpi_session.h"
#include "common/config.h"
#include "schedules/grid.h"
#include "sweep/ledger.h"  // sweep_identity
#include "sweep/sweep_layout.h"

namespace journey {

struct SweepOptions {
  std::string out_dir;
  bool retry_failed = false;
  std::string identity;  // sweep_identity() of the base config and the sweep's dataset.
};

// Runs until every cell has ended or a stop was requested; returns the exit code, or ends the
// launch with MPI_Abort(75) when it gave up on a group.
int run_sweep_coordinator(const Communicator& world, const SweepLayout& layout,
                          const RunConfig& base, const std::vector<Cell>& cells,
                          const SweepOptions& options);

}  // namespace journey
