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
// Other laws (plan_compute() with a size variable): the search is the same and C = 6 N-bar D
// stays the compute measure, but the law's N is then N_final = (1 - S) P, or N_initial = P;
// the sparse law of Frantar et al. reads N_final and S. Every one of them is, for a fixed
// (S, schedule), L(P) = E + A' / (k P)^alpha + B (6 m P / C)^beta, with m the schedule's mean
// density, k = N / P (m, 1 - S or 1) and, for the sparse law, A' = a_S (1 - S)^b_S + c_S,
// alpha = b_N, B = a_D^b_D, beta = b_D, E = c. That is convex in log P with its minimum at
//   log P* = (log(alpha A' / (beta B)) - alpha log k + beta log(C / (6 m))) / (alpha + beta),
// and --max-final-params bounds P by max_final / (1 - S). With k = m (the N-bar law) this is
// N-bar* above; the N-bar law keeps its own code, so its plans are the same bit for bit.
// Unlike the N-bar law, the N_final law charges a sparse run for its small final model and
// the N_initial law credits it with its dense size, so without a cap they do not tie.
//
// Errors: UsageError for a non-Chinchilla law (plan_compute(law, request)), a non-positive
// budget or cap, or a max_sparsity outside [0, 1).
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
// With any fitted law: a Chinchilla law whose N is `size_variable`, or the sparse law
// (`size_variable` ignored: its N is N_final). kAverage is plan_compute(law, request).
Plan plan_compute(const Law& law, SizeVariable size_variable, const PlanRequest& request);

// The loss that a law with natural-scale `coefficients` (coefficient_names(form) order, e.g.
// a bootstrap draw) predicts for the planned run `run` (its P, S, N-bar, N_final and D).
double planned_loss(LawForm form, SizeVariable size_variable,
                    const std::vector<double>& coefficients, const PlanCandidate& run);

// 95% percentile intervals (2.5% and 97.5% quantiles, fit/bootstrap.h) of a plan's predicted
// losses over the bootstrap draws of its law: each draw predicts the best run, the dense run
// and their difference (dense - best, paired: one draw, both runs). The runs stay those
// planned with the full-data law; only the law varies. Draws predicting a non-finite loss
// are left out; with none left the intervals are NaN and `draws` is 0.
struct LossInterval {
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
  // Whether the interval excludes 0 (a difference it holds is "not distinguishable").
  bool excludes_zero() const { return low > 0 || high < 0; }
};
struct PlanIntervals {
  int draws = 0;  // Draws used.
  LossInterval best, dense, difference;
};
PlanIntervals plan_intervals(const Plan& plan, LawForm form, SizeVariable size_variable,
                             const std::vector<std::vector<double>>& draws);

// What the fitted data support, from fit.json (fit/fit_file.h).
struct FitEvidence {
  Range n_avg, tokens, compute;         // Of the runs fitted.
  double in_sample_mae = 0;             // Of the law planned with (by default the N-bar law).
  std::vector<std::string> degenerate;  // Its degenerate_reasons() (fit/fit_report.h).
  int sizes = kMinSizes, durations_per_size = kMinDurations;  // Coverage of the runs.
  double max_sparsity = 1.0;  // The largest sparsity fitted (1: not known, no limit).
  // The law planned with, when it is not the N-bar law: its N (the sparse law: kFinal), the
  // fitted runs' range of that N, and its name in warnings.
  SizeVariable size_variable = SizeVariable::kAverage;
  Range size;
  std::string law_name = "N-bar law";
};

// How far a plan extrapolates beyond the data, as sentences for the plan's output: a budget,
// N-bar (the law's N, for another law) or D more than kTrustedExtrapolation times outside the
// fitted range, a search or a plan at sparsities above the largest fitted one (the law has not seen
// them), a degenerate law or too few sizes or durations, and a tie between the best sparse run and
// the best dense run (their predicted losses differ by less than the law's in-sample error).
std::vector<std::string> plan_warnings(const Plan& plan, const PlanRequest& request,
                                       const FitEvidence& evidence);
constexpr double kTrustedExtrapolation = 10.0;

// `journey plan` refuses a search above the largest fitted sparsity unless asked to
// extrapolate: nothing in the fitted runs says how the law behaves there. UsageError naming
// both sparsities and --extrapolate; nothing when the request stays within the fitted range.
// A request plan() would refuse (--max-sparsity outside [0, 1), ...) is refused first, as such.
void check_sparsity_range(const PlanRequest& request, const FitEvidence& evidence,
                          bool extrapolate);

}  // namespace journey
