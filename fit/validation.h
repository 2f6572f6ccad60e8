// How well a fitted law predicts: in sample and on held-out groups of runs.
//
// Errors are in loss, not log-loss: |L-hat - L| per run, summarised as the mean absolute
// error (MAE) and the maximum. Held-out errors refit the law without one group and predict
// that group, for every group in turn:
//   leave-one-size-out      groups are model sizes (RunRecord::size),
//   leave-one-sparsity-out  groups are final sparsities.
// Refits start from refit_starts() of the full-data fit (fit/bootstrap.h) and run one per
// thread. A kind with fewer than two groups is not applicable (points = 0, NaN errors); a
// fold leaving fewer than parameter_count + 1 runs to fit is skipped (its points are not
// counted). No errors are thrown.
//
// Many groups or runs: with more than kMaxFolds groups (e.g. a size label per run), the
// groups, in label order, are dealt to kMaxFolds folds in turn and each fold is held out
// as a whole, so the refits stay kMaxFolds, not one per run. A refit of a large table
// (fit/huber_fit.h) fits a sample of FitOptions::sample_size of the runs left (subsample(),
// salted with the fold), since a refit on every one costs a whole fit; the held-out errors
// are still those of every held-out run.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "fit/huber_fit.h"

namespace journey {

// The most refits per kind of held-out error: a refit costs milliseconds (at most
// FitOptions::sample_size runs), so a hundred cost well under a second.
constexpr int kMaxFolds = 100;

struct PredictionError {
  double mae = std::numeric_limits<double>::quiet_NaN();  // NaN when points == 0
  double max = std::numeric_limits<double>::quiet_NaN();
  int points = 0;  // Runs predicted.
  int groups = 0;  // Folds held out in turn (1 for in-sample): groups, at most kMaxFolds.
};

struct Validation {
  PredictionError in_sample;
  PredictionError leave_one_size_out;
  PredictionError leave_one_sparsity_out;
  // MAE over every held-out prediction of both kinds; NaN when neither applies.
  double held_out_mae() const;
};

// `size_groups` and `sparsity_groups` label each point.
Validation validate_law(const std::vector<LawPoint>& points,
                        const std::vector<std::string>& size_groups,
                        const std::vector<std::string>& sparsity_groups, const FitResult& full,
                        const FitOptions& options);

}  // namespace journey
