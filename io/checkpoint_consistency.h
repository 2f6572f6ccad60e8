// Cross-dataset checks of what a checkpoint means; CheckpointReader::verify() checks its bytes.
//
// check_consistency() reports, naming the dataset:
//   - a masks/<name> without params/<name>, of another shape, not uint8, or holding values
//     other than 0 and 1;
//   - a parameter with nonzero values where its mask is 0 (pruned weights must stay zero);
//   - a parameter that is not float32;
//   - an optim/exp_avg/<name> or optim/exp_avg_sq/<name> without a parameter of its shape;
//   - the problems of check_counters().
// It reads masks and masked parameters in row blocks (bounded memory) and returns problems
// rather than throwing, so `journey inspect` can list them all; a dataset that cannot be
// read is itself a problem.
#pragma once

#include <vector>

#include "io/checkpoint_file.h"

namespace journey {

std::vector<CheckpointProblem> check_consistency(const CheckpointReader& reader);

// The training counters among the root attributes, those present: step, adam_steps and
// tokens_seen must be integers with 0 <= adam_steps <= step and tokens_seen >= 0 (a resume
// starts at `step`). Reported against "/".
std::vector<CheckpointProblem> check_counters(const CheckpointReader& reader);

}  // namespace journey
