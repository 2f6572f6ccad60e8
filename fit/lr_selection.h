// `journey fit --select best-lr`: from runs of several learning rates per size (an lr scan
// merged with a law grid, or several sweeps read as one), keep each size's best rate.
//
// A size's best rate is the one whose dense runs (sparsity 0) have the lowest mean loss over
// the durations (tokens) that every rate of that size has dense runs at, each duration's loss
// first averaged over its seeds, so rates are compared on the same runs. All runs of that
// size at that rate are kept; the other rates' runs are dropped. A size with one rate keeps
// its runs as they are.
//
// Errors (UsageError): a run without an lr (the file has no lr column), or a size with
// several rates and no duration at which each of them has a dense run.
#pragma once

#include <string>
#include <vector>

#include "fit/results_csv.h"

namespace journey {

struct RateScore {
  double lr = 0;
  double mean_dense_loss = 0;  // Over the size's common durations.
};

struct SizeRateChoice {
  std::string size;
  double chosen_lr = 0;
  std::vector<RateScore> rates;  // Every rate of the size, ascending lr.
  int common_durations = 0;      // Durations the rates were compared at (0: one rate).
  int kept_runs = 0, dropped_runs = 0;
};

struct LrSelection {
  std::vector<RunRecord> runs;          // The kept runs, in their original order.
  std::vector<SizeRateChoice> choices;  // One per size, in order of first appearance.
};

LrSelection select_best_lr(const std::vector<RunRecord>& runs);

// One line per size for people and fit.json's notes: "lr selection: 48x2x2 keeps lr 0.012
// (mean dense loss 4.4513) of 0.003 (4.9297), 0.006 (4.5985), 0.012 (4.4513) at 1 common
// duration; 10 runs kept, 20 dropped".
std::vector<std::string> describe(const LrSelection& selection);

}  // namespace journey
