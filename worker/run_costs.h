// Where a run's time and memory went, for summary.json and the benchmarks (BENCHMARKS.md,
// "FSDP groups"): seconds in steps, collectives and pruning, each rank's peak RSS, the
// sharded state per rank, and each prunable matrix's final sparsity.
#pragma once

#include "run/run_summary.h"
#include "worker/pruner.h"
#include "worker/sharded_model.h"

namespace journey {

// Collective over the model's group (peak RSS is gathered, sparsity counted group-wide).
// Collective time includes waiting for the slowest rank.
RunCosts measure_run_costs(ShardedModel& model, Pruner& pruner, double steps_s,
                           double collectives_s, double pruning_s);

}  // namespace journey
