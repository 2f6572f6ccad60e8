// The start-up step of a multi-rank command: rank 0 checks, every rank agrees, and the launch
// exits with one code.
//
// agree_on_leader_check(ranks, check) runs `check` on rank 0 only (the checks that must
// happen once: locking an output directory, opening the dataset) and shares its outcome with
// one all-reduce, so bad input stops the whole launch with one clear message instead of
// leaving the other ranks waiting for work that never comes. Collective over `ranks`.
//
// Returns exit_code::kOk on every rank when the check passed. When it threw, rank 0 rethrows
// the check's exception (dispatch() prints it) and every other rank returns the exit code
// that exception will give rank 0 (kUsage for a UsageError, kFailure for anything else), so
// that mpirun, which reports the first non-zero code, reports the right one.
#pragma once

#include <functional>

#include "common/collectives.h"

namespace journey {

int agree_on_leader_check(Collectives& ranks, const std::function<void()>& check);

}  // namespace journey
