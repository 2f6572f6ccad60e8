#include "fit/validation.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <thread>

#include "fit/bootstrap.h"

namespace journey {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

PredictionError summarise(const std::vector<double>& errors, int groups) {
  PredictionError e;
  e.points = static_cast<int>(errors.size());
  e.groups = groups;
  if (errors.empty()) return e;
  double sum = 0, max = 0;
  for (double x : errors) {
    sum += x;
    max = std::max(max, x);
  }
  e.mae = sum / static_cast<double>(errors.size());
  e.max = max;
  return e;
}

double loss_error(const Law& law, const LawPoint& p) {
  return std::abs(law.predict(p) - std::exp(p.log_loss));
}

// Absolute errors of every held-out prediction, one fold per distinct label.
PredictionError leave_one_group_out(const std::vector<LawPoint>& points,
                                    const std::vector<std::string>& labels, const FitResult& full,
                                    const FitOptions& options) {
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < labels.size(); ++i) groups[labels[i]].push_back(i);
  if (groups.size() < 2) return summarise({}, static_cast<int>(groups.size()));
  // One fold per group, or groups dealt to kMaxFolds folds in turn.
  std::vector<std::vector<size_t>> folds(std::min<size_t>(groups.size(), kMaxFolds));
  size_t dealt = 0;
  for (auto& [label, members] : groups) {
    std::vector<size_t>& fold = folds[dealt++ % folds.size()];
    fold.insert(fold.end(), members.begin(), members.end());
  }

  const std::vector<std::vector<double>> starts = refit_starts(full);
  const FitOptions single = refit_options(options);
  const size_t min_train = static_cast<size_t>(parameter_count(full.law.form)) + 1;
  std::vector<std::vector<double>> fold_errors(folds.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t f = next++; f < folds.size(); f = next++) {
      std::vector<bool> held(points.size(), false);
      for (size_t i : folds[f]) held[i] = true;
      std::vector<LawPoint> train;
      for (size_t i = 0; i < points.size(); ++i) {
        if (!held[i]) train.push_back(points[i]);
      }
      if (train.size() < min_train) continue;
      const std::vector<LawPoint> sample = subsample(train, options.sample_size, f + 1);
      const Law law = fit_law(full.law.form, sample, starts, single).law;
      for (size_t i : folds[f]) fold_errors[f].push_back(loss_error(law, points[i]));
    }
  };
  const int threads = std::max(1, std::min<int>(options.threads, folds.size()));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();

  std::vector<double> errors;
  int used = 0;
  for (const auto& e : fold_errors) {
    used += e.empty() ? 0 : 1;
    errors.insert(errors.end(), e.begin(), e.end());
  }
  return summarise(errors, used);
}

}  // namespace

double Validation::held_out_mae() const {
  const int n = leave_one_size_out.points + leave_one_sparsity_out.points;
  if (n == 0) return kNaN;
  double sum = 0;
  if (leave_one_size_out.points > 0) sum += leave_one_size_out.mae * leave_one_size_out.points;
  if (leave_one_sparsity_out.points > 0) {
    sum += leave_one_sparsity_out.mae * leave_one_sparsity_out.points;
  }
  return sum / n;
}

Validation validate_law(const std::vector<LawPoint>& points,
                        const std::vector<std::string>& size_groups,
                        const std::vector<std::string>& sparsity_groups, const FitResult& full,
                        const FitOptions& options) {
  Validation v;
  std::vector<double> errors;
  for (const LawPoint& p : points) errors.push_back(loss_error(full.law, p));
  v.in_sample = summarise(errors, 1);
  v.leave_one_size_out = leave_one_group_out(points, size_groups, full, options);
  v.leave_one_sparsity_out = leave_one_group_out(points, sparsity_groups, full, options);
  return v;
}

}  // namespace journey
