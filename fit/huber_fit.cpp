#include "fit/huber_fit.h"

#include <LBFGS.h>
#include <Eigen/Core>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <thread>

namespace journey {
namespace {

// The grid stage's settings, and why they differ from LBFGSpp's defaults (m = 6, gradient
// norm 1e-5 absolute or relative, no objective test, Armijo backtracking).
// - Stopping: SciPy's L-BFGS-B rules as the replication used them: the gradient norm is at
//   most 1e-5 (absolute; SciPy's gtol), or one iteration lowered the objective by at most
//   2.2e-9 * max(|f|, 1) (SciPy's ftol = factr 1e7 * machine epsilon). Both are absolute at
//   this objective's scale (f is about 1e-3 summed, 4e-6 as a mean), which is why the sum
//   reaches the optimum and the mean stops early (A 690 instead of 478 on Chinchilla).
// - Line search: backtracking to the Wolfe conditions rather than Armijo alone. On the
//   Chinchilla data Armijo steps break down (LBFGSpp throws) in 72% of the 4500 starts and
//   only 1.4% end at the optimum; with Wolfe steps none break down and 8% do. (They cost
//   about 67 evaluations per start rather than 16, mostly because starts no longer die.)
// - m = 10 corrections: twice as many starts reach the optimum as with 6, at the same cost.
// - Caps (10000 iterations, 60 line-search trials) only bound pathological starts.
LBFGSpp::LBFGSParam<double> grid_params() {
  LBFGSpp::LBFGSParam<double> p;
  p.m = 10;
  p.epsilon = 1e-5;
  p.epsilon_rel = 0;
  p.past = 1;
  p.delta = 2.220446049250313e-09;
  p.max_iterations = 10000;
  p.max_linesearch = 60;
  p.linesearch = LBFGSpp::LBFGS_LINESEARCH_BACKTRACKING_WOLFE;
  return p;
}

// The polishing stage's settings: no objective test and a gradient norm of 1e-8. With the
// Huber delta of 1e-3 almost every residual is in the linear (L1-like) part, so the valley
// floor is nearly flat and the objective test above stops wherever progress per iteration
// gets small: started at the full-data optimum, a bootstrap resample then stays 0.1-1 away
// (in b) from its own optimum. These rules carry on to it (the same optimum as 4500 starts,
// checked in tests/fit_test.cpp).
LBFGSpp::LBFGSParam<double> polish_params() {
  LBFGSpp::LBFGSParam<double> p = grid_params();
  p.epsilon = 1e-8;
  p.past = 0;
  p.delta = 0;
  return p;
}

double huber(double r, double delta, double* slope) {
  const double abs_r = std::abs(r);
  if (abs_r <= delta) {
    *slope = r;
    return 0.5 * r * r;
  }
  *slope = r > 0 ? delta : -delta;
  return delta * (abs_r - 0.5 * delta);
}

// One fit's data and objective. The objective is evaluated 10^5-10^6 times per fit, so the
// points are also held as columns for a vectorised pass (Eigen arrays: SIMD exp and log).
// That pass shifts every log-sum-exp by one constant, the largest term over all points,
// rather than by each point's own largest term, which saves one exp per point. When a
// point's terms all lie far below that constant (its sum under kSmallestSum: only far from
// any optimum, e.g. in a rejected line-search trial), their exps would be denormal or zero
// and their log inexact, so the exact per-point pass (log_predict) runs instead.
constexpr double kSmallestSum = 1e-200;

class Problem {
 public:
  Problem(LawForm form, const std::vector<LawPoint>& points, const FitOptions& options)
      : form_(form), points_(points), options_(options) {
    const Eigen::Index n = static_cast<Eigen::Index>(points.size());
    log_n_.resize(n);
    log_d_.resize(n);
    log_keep_.resize(n);
    log_loss_.resize(n);
    weight_.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      log_n_[i] = points[i].log_n;
      log_d_[i] = points[i].log_d;
      log_keep_[i] = points[i].log_keep;
      log_loss_[i] = points[i].log_loss;
      weight_[i] = points[i].weight;
    }
    total_weight_ = weight_.sum();
  }

  double evaluate(const double* x, double* grad) const {
    double f = vectorised(x, grad);
    if (!std::isfinite(f)) f = exact(x, grad);
    if (options_.reduction == Reduction::kMean && total_weight_ > 0) {
      const double scale = 1.0 / total_weight_;
      f *= scale;
      if (grad != nullptr) {
        for (int i = 0; i < parameter_count(form_); ++i) grad[i] *= scale;
      }
    }
    return f;
  }

 private:
  using Array = Eigen::ArrayXd;

  // Weighted sum of Huber(r) over points; `slope` receives weight * Huber'(r) / s, the
  // factor of each point's log-sum-exp gradient.
  double huber_sum(const Array& r, const Array& s, Array* slope) const {
    const double delta = options_.huber_delta;
    const Array abs_r = r.abs();
    const double f =
        (weight_ * (abs_r <= delta).select(0.5 * r.square(), delta * (abs_r - 0.5 * delta))).sum();
    *slope = weight_ * (abs_r <= delta).select(r, delta * r.sign()) / s;
    return f;
  }

  double vectorised(const double* x, double* grad) const {
    Array q;
    if (form_ == LawForm::kChinchilla) {
      // Terms a - alpha log N, b - beta log D, e.
      const Array u0 = x[0] - x[3] * log_n_;
      const Array u1 = x[1] - x[4] * log_d_;
      const double c = std::max({u0.maxCoeff(), u1.maxCoeff(), x[2]});
      const Array w0 = (u0 - c).exp(), w1 = (u1 - c).exp();
      const double w2 = std::exp(x[2] - c);
      const Array s = w0 + w1 + w2;
      if (!(s.minCoeff() >= kSmallestSum)) return std::numeric_limits<double>::quiet_NaN();
      const double f = huber_sum(c + s.log() - log_loss_, s, &q);
      if (grad != nullptr) {
        grad[0] = (q * w0).sum();
        grad[1] = (q * w1).sum();
        grad[2] = q.sum() * w2;
        grad[3] = -(q * w0 * log_n_).sum();
        grad[4] = -(q * w1 * log_d_).sum();
      }
      return f;
    }
    // Terms a_s + b_S log(1 - S) - b_N log N, c_s - b_N log N, b - b_D log D, e.
    const Array u0 = x[0] + x[6] * log_keep_ - x[4] * log_n_;
    const Array u1 = x[1] - x[4] * log_n_;
    const Array u2 = x[2] - x[5] * log_d_;
    const double c = std::max({u0.maxCoeff(), u1.maxCoeff(), u2.maxCoeff(), x[3]});
    const Array w0 = (u0 - c).exp(), w1 = (u1 - c).exp(), w2 = (u2 - c).exp();
    const double w3 = std::exp(x[3] - c);
    const Array s = w0 + w1 + w2 + w3;
    if (!(s.minCoeff() >= kSmallestSum)) return std::numeric_limits<double>::quiet_NaN();
    const double f = huber_sum(c + s.log() - log_loss_, s, &q);
    if (grad != nullptr) {
      grad[0] = (q * w0).sum();
      grad[1] = (q * w1).sum();
      grad[2] = (q * w2).sum();
      grad[3] = q.sum() * w3;
      grad[4] = -(q * (w0 + w1) * log_n_).sum();
      grad[5] = -(q * w2 * log_d_).sum();
      grad[6] = (q * w0 * log_keep_).sum();
    }
    return f;
  }

  double exact(const double* x, double* grad) const {
    const int n_params = parameter_count(form_);
    double point_grad[8];
    double total = 0;
    if (grad != nullptr) std::fill(grad, grad + n_params, 0.0);
    for (const LawPoint& p : points_) {
      const double r =
          log_predict(form_, x, p, grad != nullptr ? point_grad : nullptr) - p.log_loss;
      double slope = 0;
      total += p.weight * huber(r, options_.huber_delta, &slope);
      if (grad != nullptr) {
        for (int i = 0; i < n_params; ++i) grad[i] += p.weight * slope * point_grad[i];
      }
    }
    return total;
  }

  LawForm form_;
  const std::vector<LawPoint>& points_;
  const FitOptions& options_;
  Array log_n_, log_d_, log_keep_, log_loss_, weight_;
  double total_weight_ = 0;
};

// The objective as LBFGSpp calls it, remembering the best point it ever evaluated so that a
// line-search breakdown (LBFGSpp throws) still yields the best point seen.
class Objective {
 public:
  explicit Objective(const Problem& problem) : problem_(problem) {}

  double operator()(const Eigen::VectorXd& x, Eigen::VectorXd& grad) {
    const double f = problem_.evaluate(x.data(), grad.data());
    if (std::isfinite(f) && f < best_f_) {
      best_f_ = f;
      best_x_ = x;
    }
    return f;
  }
  double best_f() const { return best_f_; }
  const Eigen::VectorXd& best_x() const { return best_x_; }

 private:
  const Problem& problem_;
  double best_f_ = std::numeric_limits<double>::infinity();
  Eigen::VectorXd best_x_;
};

struct EndPoint {
  std::vector<double> x;
  double f = std::numeric_limits<double>::infinity();
  int start = 0;  // Index of the start it came from.
};

EndPoint minimize_from(const Problem& problem, const std::vector<double>& start,
                       const LBFGSpp::LBFGSParam<double>& params) {
  Objective objective(problem);
  LBFGSpp::LBFGSSolver<double> solver(params);
  Eigen::VectorXd x = Eigen::Map<const Eigen::VectorXd>(start.data(), start.size());
  double f = 0;
  try {
    solver.minimize(objective, x, f);
  } catch (const std::exception&) {
    // Line search could not make progress (flat or non-finite region): keep the best point.
  }
  EndPoint end;
  end.x = start;
  if (objective.best_x().size() == 0) return end;
  end.f = objective.best_f();
  end.x.assign(objective.best_x().data(), objective.best_x().data() + x.size());
  return end;
}

// End points closer than this in every parameter (5% in A, B, E; 0.05 in an exponent) are
// one optimum reached with slightly different precision.
constexpr double kSameOptimum = 0.05;

// Whether `x` is another optimum than every one in `kept`.
bool is_new_optimum(const std::vector<EndPoint>& kept, const std::vector<double>& x) {
  for (const EndPoint& k : kept) {
    double distance = 0;
    for (size_t i = 0; i < x.size(); ++i) distance = std::max(distance, std::abs(k.x[i] - x[i]));
    if (distance < kSameOptimum) return false;
  }
  return true;
}

// The best end point of each optimum, best first, at most FitResult::kMaxOptima. Equal
// objectives keep start order, so the thread count cannot change the result. Never empty:
// if no start produced a finite objective, the first start is returned as is.
std::vector<EndPoint> distinct_optima(std::vector<EndPoint> ends) {
  std::stable_sort(ends.begin(), ends.end(),
                   [](const EndPoint& a, const EndPoint& b) { return a.f < b.f; });
  std::vector<EndPoint> kept;
  for (EndPoint& end : ends) {
    if (!std::isfinite(end.f) || kept.size() >= FitResult::kMaxOptima) break;
    if (is_new_optimum(kept, end.x)) kept.push_back(std::move(end));
  }
  if (kept.empty()) kept.push_back(std::move(ends.front()));
  return kept;
}

// Runs `task(i)` for i in [0, count) on `threads` std::threads; each i writes only its slot.
template <typename Task>
void parallel_for(size_t count, int threads, const Task& task) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < count; i = next++) task(i);
  };
  const int used = std::max(1, std::min<int>(threads, count));
  std::vector<std::thread> pool;
  for (int t = 1; t < used; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
}

// The grid stage from every start, then polishing of the best distinct optima: the distinct
// optima, best first.
std::vector<EndPoint> grid_and_polish(const Problem& problem,
                                      const std::vector<std::vector<double>>& starts,
                                      const FitOptions& options) {
  const LBFGSpp::LBFGSParam<double> grid = grid_params();
  std::vector<EndPoint> ends(starts.size());
  parallel_for(starts.size(), options.threads, [&](size_t i) {
    ends[i] = minimize_from(problem, starts[i], grid);
    ends[i].start = static_cast<int>(i);
  });
  std::vector<EndPoint> optima = distinct_optima(std::move(ends));
  const size_t polished = std::min<size_t>(std::max(options.polished_optima, 0), optima.size());
  if (polished > 0) {
    const LBFGSpp::LBFGSParam<double> polish = polish_params();
    parallel_for(polished, options.threads, [&](size_t i) {
      EndPoint end = minimize_from(problem, optima[i].x, polish);
      if (end.f < optima[i].f) {
        optima[i].x = std::move(end.x);
        optima[i].f = end.f;
      }
    });
    optima = distinct_optima(std::move(optima));
  }
  return optima;
}

// A large table: grid and polishing on a sample, then the sample's best optima as the starts
// of both stages on every point (fit/huber_fit.h, "Large tables").
std::vector<EndPoint> sample_then_polish(LawForm form, const std::vector<LawPoint>& points,
                                         const std::vector<std::vector<double>>& starts,
                                         const FitOptions& options) {
  const std::vector<LawPoint> sample =
      subsample(points, std::min(options.sample_size, kGridSampleSize), 0);
  std::vector<EndPoint> sampled = grid_and_polish(Problem(form, sample, options), starts, options);
  const size_t kept = std::min<size_t>(kFullDataPolished, sampled.size());
  std::vector<std::vector<double>> best;
  for (size_t i = 0; i < kept; ++i) best.push_back(sampled[i].x);
  std::vector<EndPoint> optima = grid_and_polish(Problem(form, points, options), best, options);
  for (EndPoint& end : optima) end.start = sampled[end.start].start;
  for (size_t i = kept; i < sampled.size() && optima.size() < FitResult::kMaxOptima; ++i) {
    if (is_new_optimum(optima, sampled[i].x)) optima.push_back(std::move(sampled[i]));
  }
  return optima;
}

}  // namespace

std::vector<LawPoint> subsample(const std::vector<LawPoint>& points, int count, uint64_t salt) {
  const size_t n = points.size();
  if (count <= 0 || static_cast<size_t>(count) >= n) return points;
  // std::seed_seq and mt19937_64 are fully specified by the standard, so the sample is the
  // same with every library; a partial Fisher-Yates shuffle picks the first `count`.
  std::seed_seq seq{static_cast<uint32_t>(salt), static_cast<uint32_t>(salt >> 32),
                    static_cast<uint32_t>(n), static_cast<uint32_t>(count)};
  std::mt19937_64 rng(seq);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  for (size_t i = 0; i < static_cast<size_t>(count); ++i) {
    std::swap(order[i], order[i + rng() % (n - i)]);
  }
  order.resize(count);
  std::sort(order.begin(), order.end());
  std::vector<LawPoint> sample;
  sample.reserve(count);
  for (size_t i : order) sample.push_back(points[i]);
  return sample;
}

double huber_objective(LawForm form, const std::vector<LawPoint>& points, const double* x,
                       double* grad, const FitOptions& options) {
  return Problem(form, points, options).evaluate(x, grad);
}

FitResult fit_law(LawForm form, const std::vector<LawPoint>& points,
                  const std::vector<std::vector<double>>& starts, const FitOptions& options) {
  const bool large =
      options.sample_size > 0 && points.size() > static_cast<size_t>(options.sample_size);
  std::vector<EndPoint> optima =
      large ? sample_then_polish(form, points, starts, options)
            : grid_and_polish(Problem(form, points, options), starts, options);
  FitResult result;
  result.best_start = optima[0].start;
  result.objective = optima[0].f;
  result.law = Law{form, optima[0].x};
  for (EndPoint& end : optima) result.optima.push_back(std::move(end.x));
  return result;
}

std::vector<std::vector<double>> chinchilla_start_grid() {
  std::vector<std::vector<double>> starts;
  starts.reserve(4500);
  for (int ia = 0; ia <= 5; ++ia) {
    for (int ib = 0; ib <= 5; ++ib) {
      for (int ie = 0; ie <= 4; ++ie) {
        for (int ialpha = 0; ialpha <= 4; ++ialpha) {
          for (int ibeta = 0; ibeta <= 4; ++ibeta) {
            starts.push_back({5.0 * ia, 5.0 * ib, -1.0 + 0.5 * ie, 0.5 * ialpha, 0.5 * ibeta});
          }
        }
      }
    }
  }
  return starts;
}

std::vector<std::vector<double>> sparse_start_grid(const FitResult& final_size_chinchilla) {
  std::vector<std::vector<double>> starts;
  for (const std::vector<double>& c : final_size_chinchilla.optima) {
    // c = (a, b, e, alpha, beta) of L = E + A/N^alpha + B/D^beta.
    for (double share : {0.1, 0.5, 0.9}) {
      for (double b_s : {0.25, 0.5, 1.0, 2.0, 4.0}) {
        starts.push_back(
            {c[0] + std::log(share), c[0] + std::log1p(-share), c[1], c[2], c[3], c[4], b_s});
      }
    }
  }
  return starts;
}

}  // namespace journey
