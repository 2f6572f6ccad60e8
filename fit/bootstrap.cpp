#include "fit/bootstrap.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <random>
#include <thread>

namespace journey {

double quantile(const std::vector<double>& sorted, double q) {
  const double h = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

std::vector<int> resample_indices(int n, uint64_t seed, int resample, int draws) {
  // std::seed_seq and mt19937_64 are fully specified by the standard, so the draws are the
  // same with every library. The modulo bias is below n / 2^64.
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(resample)};
  std::mt19937_64 rng(seq);
  std::vector<int> indices(draws > 0 ? draws : n);
  for (int& i : indices) i = static_cast<int>(rng() % static_cast<uint64_t>(n));
  return indices;
}

std::vector<LawPoint> resample_points(const std::vector<LawPoint>& points, uint64_t seed,
                                      int resample, int draws) {
  // Sorted, the draws of one run are adjacent: O(draws log draws), not O(points).
  std::vector<int> drawn = resample_indices(static_cast<int>(points.size()), seed, resample, draws);
  std::sort(drawn.begin(), drawn.end());
  std::vector<LawPoint> sample;
  for (size_t i = 0; i < drawn.size(); ++i) {
    if (i > 0 && drawn[i] == drawn[i - 1]) continue;
    const size_t end = std::upper_bound(drawn.begin() + i, drawn.end(), drawn[i]) - drawn.begin();
    sample.push_back(points[drawn[i]]);
    sample.back().weight *= static_cast<double>(end - i);
  }
  return sample;
}

std::vector<std::vector<double>> refit_starts(const FitResult& full) {
  std::vector<std::vector<double>> starts = full.optima;
  // The exponents: alpha, beta (chinchilla) or b_N, b_D (sparse).
  const int i = full.law.form == LawForm::kChinchilla ? 3 : 4;
  for (double d_n : {-0.1, 0.1}) {
    for (double d_d : {-0.1, 0.1}) {
      std::vector<double> x = full.law.x;
      x[i] += d_n;
      x[i + 1] += d_d;
      starts.push_back(x);
    }
  }
  return starts;
}

FitOptions refit_options(const FitOptions& fit) {
  FitOptions refit = fit;
  refit.threads = 1;
  refit.polished_optima = 1;
  return refit;
}

BootstrapResult bootstrap_fit(const std::vector<LawPoint>& points, const FitResult& full,
                              const FitOptions& fit, const BootstrapOptions& options) {
  const int n = static_cast<int>(points.size());
  const int drawn = fit.sample_size > 0 ? std::min(n, fit.sample_size) : n;
  const std::vector<std::vector<double>> starts =
      drawn < n ? std::vector<std::vector<double>>{full.law.x} : refit_starts(full);
  const FitOptions single = refit_options(fit);
  const double shrink = std::sqrt(static_cast<double>(drawn) / n);
  BootstrapResult result;
  result.draws.resize(options.resamples);
  std::atomic<int> next{0};
  auto worker = [&] {
    for (int r = next++; r < options.resamples; r = next++) {
      const std::vector<LawPoint> sample = resample_points(points, options.seed, r, drawn);
      Law law = fit_law(full.law.form, sample, starts, single).law;
      if (drawn < n) {
        for (size_t i = 0; i < law.x.size(); ++i) {
          law.x[i] = full.law.x[i] + shrink * (law.x[i] - full.law.x[i]);
        }
      }
      result.draws[r] = law.coefficients();
    }
  };
  const int threads = std::max(1, std::min(options.threads, options.resamples));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();

  const std::vector<std::string>& names = coefficient_names(full.law.form);
  const std::vector<double> estimate = full.law.coefficients();
  for (size_t c = 0; c < names.size(); ++c) {
    CoefficientInterval interval;
    interval.name = names[c];
    interval.estimate = estimate[c];
    interval.se = interval.ci_low = interval.ci_high = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> values;
    for (const auto& draw : result.draws) {
      if (std::isfinite(draw[c])) values.push_back(draw[c]);
    }
    if (!values.empty()) {
      double mean = 0;
      for (double v : values) mean += v;
      mean /= static_cast<double>(values.size());
      double ss = 0;
      for (double v : values) ss += (v - mean) * (v - mean);
      interval.se =
          values.size() > 1 ? std::sqrt(ss / static_cast<double>(values.size() - 1)) : interval.se;
      std::sort(values.begin(), values.end());
      interval.ci_low = quantile(values, 0.025);
      interval.ci_high = quantile(values, 0.975);
    }
    result.coefficients.push_back(interval);
  }
  return result;
}

}  // namespace journey
