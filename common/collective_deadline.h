// Deadlines for collective calls: a rank that waits in one call too long ends the group
// instead of hanging until the job's time limit.
//
// A peer that died, froze (a GPU hang, a dead node, SIGSTOP) or took another path leaves the
// other ranks blocked inside MPI or NCCL, where neither a timeout nor a signal reaches them.
// with_deadline() wraps a backend: each call records its name, size and start; a watchdog
// thread looks at them ten times a second and
//   - when one call has waited `timeout_seconds` (train.collective_timeout_s; 0 disables),
//     logs the call, this rank, the wait and the key, then backend.abort(exit_code::kFailure);
//   - when a stop was requested (SIGTERM / SIGUSR2, common/stop_signal.h) and a call has
//     waited kStopGraceSeconds (or the timeout, if shorter) since the later of its start and
//     the signal, logs it and ends with backend.abort(exit_code::kPreempted): the step in
//     progress is lost, and running the same command again resumes from the last checkpoint.
//     Once a stop was requested this rule replaces the first.
// A call that makes progress is never cut: the wait counts per call, so a long run of short
// calls is fine, and only one call that lasts the whole deadline trips it. Normal preemption
// (the trainer polls the stop flag between steps and checkpoints) finishes well inside the
// grace. While a CheckpointWrite is alive the grace does not apply (only the timeout): the
// other ranks then wait for the leader's write, which is what a stop asks for, and which
// may take minutes at the paper's sizes.
#pragma once

#include <memory>

#include "common/collectives.h"

namespace journey {

// After a stop request, the longest one collective call may still wait (seconds). Slurm's
// default KillWait is 30 s, and a checkpoint's leader write (the others wait in one call)
// must fit.
inline constexpr double kStopGraceSeconds = 60.0;

// Marks this process as writing a checkpoint for as long as it lives (the trainer holds one
// around save_checkpoint): a stop request then does not shorten the deadline of any call.
class CheckpointWrite {
 public:
  CheckpointWrite();
  ~CheckpointWrite();
  CheckpointWrite(const CheckpointWrite&) = delete;
  CheckpointWrite& operator=(const CheckpointWrite&) = delete;
};

// Wraps `backend` (calls pass through unchanged; stats() and abort() are the backend's).
std::unique_ptr<Collectives> with_deadline(std::unique_ptr<Collectives> backend,
                                           double timeout_seconds);

}  // namespace journey
