// The fitter: Chinchilla Approach 3 (Hoffmann et al. 2022, as replicated by Besiroglu et al.
// 2024, arXiv 2404.10102) for any LawForm. Why it is built this way (the sum, the optimiser,
// the two stages, sampling large tables) and what it gives on the Chinchilla points:
// docs/fit.md, "The fit".
//
// Objective: the Huber loss (delta 1e-3) of the log-loss residuals log L-hat - log L, SUMMED
// over points, each counted LawPoint::weight times (Reduction::kMean divides by the total
// weight; it exists to show why the sum, in a test).
//
// Optimiser: L-BFGS (LBFGSpp) with analytic gradients, in two stages. Grid stage: every
// start point, with SciPy's stopping rules as the replication ran them. Polishing stage: the
// best distinct optima of the grid (FitOptions::polished_optima) continue with patient rules
// (no objective test, gradient norm 1e-8) to the bottom of their basin. The lowest objective
// wins (ties: the lowest start index), so the result does not depend on the thread count.
//
// Large tables (more points than FitOptions::sample_size): both stages run on
// kGridSampleSize points drawn without replacement (subsample()), and the best
// kFullDataPolished of their optima start both stages again on every point, the lowest
// full-data objective winning; the sample's other optima follow them in FitResult::optima, as
// starts for refits. Smaller tables are fitted on every point from the start.
//
// Errors: none for finite inputs; a start that fails (line-search breakdown) keeps the best
// point it evaluated.
#pragma once

#include <cstdint>
#include <vector>

#include "fit/law.h"

namespace journey {

enum class Reduction { kSum, kMean };

struct FitOptions {
  double huber_delta = 1e-3;
  Reduction reduction = Reduction::kSum;
  int threads = 2;  // Start points run on this many std::threads.
  // How many of the best distinct grid optima continue into polishing: 8 is all of them
  // (FitResult::kMaxOptima), 0 the grid stage alone, as the replication ran it. Refits
  // (fit/bootstrap.h) polish only the best one (docs/fit.md, "Uncertainty", says why).
  int polished_optima = 8;
  // Larger tables are fitted on a sample of this many points first ("Large tables" above;
  // bootstrap.h and validation.h sample likewise); 0 never samples.
  int sample_size = 250;
};

// A large table's grid runs on this many of its points (at most FitOptions::sample_size)...
constexpr int kGridSampleSize = 100;
// ...and this many of the optima found there are fitted again on every point.
constexpr int kFullDataPolished = 2;

// `count` of `points` drawn without replacement, in their original order (all of them when
// count is at least their number, or not positive); a function of the arguments alone
// (std::mt19937_64). `salt` tells apart the samples of one table.
std::vector<LawPoint> subsample(const std::vector<LawPoint>& points, int count, uint64_t salt);

// The objective at `x`; when `grad` is not null it receives the gradient.
double huber_objective(LawForm form, const std::vector<LawPoint>& points, const double* x,
                       double* grad, const FitOptions& options);

struct FitResult {
  Law law;               // The best end point over all starts.
  double objective = 0;  // The objective there.
  int best_start = -1;   // Its index in the start list.
  // Distinct end points (local optima), best first, at most kMaxOptima; optima[0] is law.x.
  // Resamples and held-out fits start from these (fit/bootstrap.h). For a large table, those
  // fitted on every point come first, then the sample's others.
  std::vector<std::vector<double>> optima;
  static constexpr int kMaxOptima = 8;
};

// L-BFGS from each start; `starts` must not be empty, each of parameter_count(form) values.
FitResult fit_law(LawForm form, const std::vector<LawPoint>& points,
                  const std::vector<std::vector<double>>& starts, const FitOptions& options);

// The 4500 Chinchilla starts: alpha, beta in {0, 0.5, ..., 2}; e in {-1, -0.5, ..., 1};
// a, b in {0, 5, ..., 25}; as x = (a, b, e, alpha, beta).
std::vector<std::vector<double>> chinchilla_start_grid();

// Starts for the sparse law, built around a Chinchilla fit with N = N_final (the sparse law
// with S = 0 is that law with A = a_S + c_S, a_D = B^(1/beta)): the split of A between a_S
// and c_S (1:9, 1:1, 9:1) times b_S in {0.25, 0.5, 1, 2, 4}, from each of the Chinchilla
// fit's distinct optima. A full grid over seven parameters would cost 10^5 starts.
std::vector<std::vector<double>> sparse_start_grid(const FitResult& final_size_chinchilla);

}  // namespace journey
