// The files one run writes in its directory (worker/trainer.h): config.ini, metrics.csv,
// eval.csv, sparsity.csv, progress.json, summary.json, train.log, checkpoints/ and its
// TensorBoard event files (events.out.tfevents.*).
#pragma once

#include <string>

namespace journey {

// Moves the run files found in `dir` into dir/replaced-<n>/ (the first n free) and returns
// that folder, or "" when `dir` holds none: `journey train --fresh` keeps the run it
// replaces. Anything else in `dir` stays. DataError when a move fails.
std::string set_aside_previous_run(const std::string& dir);

}  // namespace journey
