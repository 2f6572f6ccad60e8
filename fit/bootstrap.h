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
  // Natural-scale coefficients of each resample's fit, in resample order.
  std::vector<std::vector<double>> draws;
};

// The run indices resample `resample` draws: `n` values in [0, n), a function of the
// arguments alone.
std::vector<int> resample_indices(int n, uint64_t seed, int resample);

// Resample `resample` as the refit sees it: each drawn run once, in the original order, its
// weight multiplied by its count.
std::vector<LawPoint> resample_points(const std::vector<LawPoint>& points, uint64_t seed,
                                      int resample);

// The starts of a refit on perturbed data (a resample, a held-out fold).
std::vector<std::vector<double>> refit_starts(const FitResult& full);
// The options of such a refit: one thread, the best end point polished.
FitOptions refit_options(const FitOptions& fit);

// `fit` supplies the objective; its threads are ignored (each refit uses one).
BootstrapResult bootstrap_fit(const std::vector<LawPoint>& points, const FitResult& full,
                              const FitOptions& fit, const BootstrapOptions& options);

}  // namespace journey
