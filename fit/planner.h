// Compute planning from a fitted law with N = N-bar (Jin et al. 2025): the dense size P,
// final sparsity S, tokens D and pruning schedule with the lowest predicted loss for a
// budget C, and the best dense run for comparison.
//
// The paper's compute is C = 6 N-bar D. A run with dense size P, sparsity S and the
// schedule's phases (25/50/25 of compute by default) averages N-bar = P * mean_density(S)
// active prunable parameters (schedules/phase_solver.h) and ends with N_final = (1 - S) P.
// Along C = 6 N-bar D the law's loss E + A / N-bar^alpha + B / D^beta is convex in log N-bar
// with its minimum at
//   N-bar* = (alpha A / (beta B))^(1 / (alpha + beta)) (C / 6)^(beta / (alpha + beta)),
// so each (S, schedule) takes N-bar = min(N-bar*, cap), where --max-final-params bounds
// N-bar by max_final * mean_density / (1 - S). Sparsities run over a grid of step 0.01 up
// to max_sparsity (by default the largest sparsity the fit saw: the law is not trusted
// beyond its data), for both schedules.
//
// Without a cap every candidate reaches N-bar* and predicts the same loss: that is the
// law's claim, that only N-bar and D matter. Ties (relative 1e-12) go to the smallest
// final model, then the lowest sparsity, so the choice says how small a model the budget
// buys at no predicted cost.
//
// Errors: UsageError for a non-Chinchilla law, a non-positive budget or cap, or a
// max_sparsity outside [0, 1).
#pragma once

#include <limits>

#include <string>
#include <vector>

#include "fit/fit_report.h"
#include "fit/law.h"
#include "schedules/density_schedule.h"

namespace journey {

struct PlanRequest {
  double flops = 0;  // C
  double max_final_params = std::numeric_limits<double>::infinity();
  double max_sparsity = 0;
  double dense_frac = 0.25;      // c_s
  double prune_end_frac = 0.75;  // c_e
  double sparsity_step = 0.01;
};

struct PlanCandidate {
  double dense_params = 0;  // P
  double sparsity = 0;      // S
  ScheduleKind schedule = ScheduleKind::kDense;
  double mean_params = 0;   // N-bar = P * mean_density
  double final_params = 0;  // N_final = (1 - S) P
  double tokens = 0;        // D = C / (6 N-bar)
  double loss = 0;          // Predicted.
  bool capped = false;      // max_final_params bound N-bar below N-bar*.
};

struct Plan {
  PlanCandidate best;
  PlanCandidate dense;  // The best run with S = 0.
};

Plan plan_compute(const Law& law, const PlanRequest& request);

// What the fitted data support, from fit.json (fit/fit_file.h).
struct FitEvidence {
  Range n_avg, tokens, compute;         // Of the runs fitted.
  double in_sample_mae = 0;             // Of the N-bar law.
  std::vector<std::string> degenerate;  // Its degenerate_reasons() (fit/fit_report.h).
  int sizes = kMinSizes, durations_per_size = kMinDurations;  // Coverage of the runs.
  double max_sparsity = 1.0;  // The largest sparsity fitted (1: not known, no limit).
};

// How far a plan extrapolates beyond the data, as sentences for the plan's output: a budget,
// N-bar or D more than kTrustedExtrapolation times outside the fitted range, a search or a
// plan at sparsities above the largest fitted one (the law has not seen them), a degenerate
// law or too few sizes or durations, and a tie between the best sparse run and the best dense
// run (their predicted losses differ by less than the law's in-sample error).
std::vector<std::string> plan_warnings(const Plan& plan, const PlanRequest& request,
                                       const FitEvidence& evidence);
constexpr double kTrustedExtrapolation = 10.0;

}  // namespace journey
