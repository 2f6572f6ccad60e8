// The fitter: Chinchilla Approach 3 (Hoffmann et al. 2022, as replicated by Besiroglu et al.
// 2024, arXiv 2404.10102) for any LawForm.
//
// Objective: the Huber loss (delta 1e-3) of the log-loss residuals log L-hat - log L, SUMMED
// over points. The sum is not a detail: the minimiser is the same for the mean, but the
// optimiser's stopping rules are not scale-free (the relative decrease test divides by
// max(|f|, 1)), so with the mean, whose values are about 1e-5, L-BFGS stops far from the
// optimum, as Epoch AI found with SciPy. Reduction::kMean exists to show that in a test.
//
// Optimiser: L-BFGS from LBFGSpp (Debian liblbfgspp-dev) with analytic gradients, in two
// stages. Grid stage: every start point, with SciPy's stopping rules as the replication used
// them (so Reduction::kMean stops early there, as Epoch AI found). Polishing stage: the
// best distinct optima the grid reached (FitOptions::polished_optima) continue with patient
// rules (no objective test, gradient norm 1e-8) to the minimum of their basin; the lowest
// objective wins (ties: the lowest start index), so the result does not depend on the
// thread count. Polished, the mean and
// the sum reach the same optimum: the reduction matters only through the stopping rules.
// Why LBFGSpp rather than hand-written descent or numeric gradients: it is a maintained,
// header-only L-BFGS with Wolfe line searches, and the analytic gradient of a log-sum-exp
// is exact and costs one pass over the points, where finite differences would cost 6-8
// passes and lose half the digits near the optimum, which is exactly where the tiny Huber
// delta makes the objective flat. See docs/fit.md.
//
// Errors: none for finite inputs; a start that fails (line search breakdown) keeps the best
// point it evaluated.
#pragma once

#include <vector>

#include "fit/law.h"

namespace journey {

enum class Reduction { kSum, kMean };

struct FitOptions {
  double huber_delta = 1e-3;
  Reduction reduction = Reduction::kSum;
  int threads = 2;  // Start points run on this many std::threads.
  // How many of the best distinct grid optima continue into polishing: 0 is the grid stage
  // alone, as the replication ran it. Refits (fit/bootstrap.h) polish only the best one:
  // on 300 Chinchilla resamples that gave the same optimum (parameters within 1e-6) as
  // polishing all, at 40% of the cost.
  int polished_optima = 8;
};

// The objective at `x`; when `grad` is not null it receives the gradient.
double huber_objective(LawForm form, const std::vector<LawPoint>& points, const double* x,
                       double* grad, const FitOptions& options);

struct FitResult {
  Law law;               // The best end point over all starts.
  double objective = 0;  // The objective there.
  int best_start = -1;   // Its index in the start list.
  // Distinct end points (local optima), best first, at most kMaxOptima; optima[0] is law.x.
  // Resamples and held-out fits start from these (fit/bootstrap.h).
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
