// Uncertainty of a fitted law: the non-parametric bootstrap over runs.
//
// Resample r draws n runs with replacement from the n fitted, using a generator seeded with
// (seed, r) alone, and refits. The refit sees each drawn run once, weighted by how often it
// was drawn (LawPoint::weight): the same objective as the list with repeats, at about 63% of
// the cost, since a resample holds about 1 - 1/e of the distinct runs. Each refit runs on one
// thread; resamples are spread over options.threads and written to their own slots, so the draws,
// and every statistic, are identical for a seed whatever the thread count.
//
// A refit does not repeat the 4500-start grid: it starts from refit_starts(), the full-data
// fit's distinct optima plus the best with its two exponents moved by +-0.1, and polishes
// the best end point (refit_options(), fit/huber_fit.h). A resample is a small perturbation
// of the data, so its optimum lies in the basin of the full-data one; tests/fit_test.cpp
// checks that the refit finds the same optimum as the full grid on Chinchilla resamples.
// It costs 5-12 starts instead of 4500.
//
// Large tables (more runs n than FitOptions::sample_size, m; fit/huber_fit.h): a refit costs
// about 300 passes over the points it drew, so 1000 resamples of 54,000 runs would cost
// about 6 CPU-minutes per law. There a resample draws m runs, not n (the first m of its n
// draws): the m-out-of-n bootstrap (Bickel, Goetze and van Zwet 1997). Its refit's
// deviation from the full-data parameters x is scaled by sqrt(m / n), the ratio of the
// standard errors at the two sizes of an estimator that converges as 1 / sqrt(n) (this Huber
// M-estimator does), and the draw is the coefficients of x + sqrt(m / n) (x_refit - x). The
// refit starts from x alone: on 100 resamples of 250 of 54,000 synthetic runs it reached the
// optimum it reaches from refit_starts() (parameters within 1e-6; the Chinchilla law with N-bar
// and N_initial, and the sparse law) in a third of the passes (about 110). The cost is then
// that of an m-run table whatever n; tests/fit_test.cpp checks the standard errors against
// the bootstrap that draws all n.
//
// Reported per coefficient (natural scale, law.h): the full-data estimate, the standard
// error (standard deviation of the draws, n - 1) and the 95% percentile interval (2.5% and
// 97.5% quantiles of the draws, linear interpolation). A non-finite draw (a degenerate
// resample, e.g. a_D = e^(b / b_D) with b_D near 0) is left out of that coefficient's
// statistics; with no finite draw they are NaN.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fit/huber_fit.h"

namespace journey {

struct BootstrapOptions {
  int resamples = 1000;
  uint64_t seed = 0;
  int threads = 2;
};

struct CoefficientInterval {
  std::string name;
  double estimate = 0;  // From the full-data fit.
  double se = 0;
  double ci_low = 0, ci_high = 0;  // 95% percentile interval.
};

struct BootstrapResult {
  std::vector<CoefficientInterval> coefficients;  // coefficient_names() order.
  // Natural-scale coefficients of each resample's fit (large tables: of its scaled
  // parameters), in resample order.
  std::vector<std::vector<double>> draws;
};

// The q-quantile (0 <= q <= 1) of `sorted` (ascending, not empty), interpolating linearly
// between order statistics: the percentile intervals here and in the planner (fit/planner.h).
double quantile(const std::vector<double>& sorted, double q);

// The run indices resample `resample` draws: `draws` values in [0, n) (n values when draws
// is 0; fewer are the first of those n), a function of the arguments alone.
std::vector<int> resample_indices(int n, uint64_t seed, int resample, int draws = 0);

// Resample `resample` as the refit sees it: each drawn run once, in the original order, its
// weight multiplied by its count. `draws` as for resample_indices().
std::vector<LawPoint> resample_points(const std::vector<LawPoint>& points, uint64_t seed,
                                      int resample, int draws = 0);

// The starts of a refit on perturbed data (a resample, a held-out fold).
std::vector<std::vector<double>> refit_starts(const FitResult& full);
// The options of such a refit: one thread, the best end point polished.
FitOptions refit_options(const FitOptions& fit);

// `fit` supplies the objective; its threads are ignored (each refit uses one).
BootstrapResult bootstrap_fit(const std::vector<LawPoint>& points, const FitResult& full,
                              const FitOptions& fit, const BootstrapOptions& options);

}  // namespace journey
