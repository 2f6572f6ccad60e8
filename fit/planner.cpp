#include "fit/planner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "common/error.h"
#include "common/pruning_schedules.h"
#include "fit/bootstrap.h"
#include "schedules/phase_solver.h"

namespace journey {
namespace {

double mean_density_of(const PlanRequest& request, double sparsity, ScheduleKind schedule) {
  return schedule == ScheduleKind::kDense
             ? 1.0
             : solve_compute_phases(schedule, sparsity, request.dense_frac, request.prune_end_frac)
                   .mean_density;
}

// The best candidate with this sparsity and schedule (the N-bar law).
PlanCandidate candidate(const Law& law, const PlanRequest& request, double sparsity,
                        ScheduleKind schedule) {
  const std::vector<double> c = law.coefficients();  // A, B, E, alpha, beta
  const double A = c[0], B = c[1], E = c[2], alpha = c[3], beta = c[4];
  const double mean_density = mean_density_of(request, sparsity, schedule);
  const double log_optimum =
      (std::log(alpha * A / (beta * B)) + beta * std::log(request.flops / 6.0)) / (alpha + beta);
  const double cap = request.max_final_params * mean_density / (1.0 - sparsity);
  PlanCandidate p;
  p.sparsity = sparsity;
  p.schedule = schedule;
  p.mean_params = std::exp(log_optimum);
  if (p.mean_params > cap) {
    p.mean_params = cap;
    p.capped = true;
  }
  p.dense_params = p.mean_params / mean_density;
  p.final_params = (1.0 - sparsity) * p.dense_params;
  p.tokens = request.flops / (6.0 * p.mean_params);
  p.loss = E + A / std::pow(p.mean_params, alpha) + B / std::pow(p.tokens, beta);
  return p;
}

// The best candidate with this sparsity and schedule under any law (fit/planner.h: L(P)).
PlanCandidate general_candidate(const Law& law, SizeVariable size_variable,
                                const PlanRequest& request, double sparsity,
                                ScheduleKind schedule) {
  const std::vector<double> c = law.coefficients();
  const double mean_density = mean_density_of(request, sparsity, schedule);
  double log_a, log_b, alpha, beta, k;
  if (law.form == LawForm::kChinchilla) {
    log_a = std::log(c[0]);
    log_b = std::log(c[1]);
    alpha = c[3];
    beta = c[4];
    k = size_variable == SizeVariable::kAverage ? mean_density
        : size_variable == SizeVariable::kFinal ? 1.0 - sparsity
                                                : 1.0;
  } else {  // a_S, b_S, c_S, b_N, a_D, b_D, c
    log_a = std::log(c[0] * std::pow(1.0 - sparsity, c[1]) + c[2]);
    alpha = c[3];
    log_b = c[5] * std::log(c[4]);
    beta = c[5];
    k = 1.0 - sparsity;
  }
  const double log_optimum = (std::log(alpha / beta) + log_a - log_b - alpha * std::log(k) +
                              beta * std::log(request.flops / (6.0 * mean_density))) /
                             (alpha + beta);
  const double cap = request.max_final_params / (1.0 - sparsity);
  PlanCandidate p;
  p.sparsity = sparsity;
  p.schedule = schedule;
  p.dense_params = std::exp(log_optimum);
  if (p.dense_params > cap) {
    p.dense_params = cap;
    p.capped = true;
  }
  p.mean_params = mean_density * p.dense_params;
  p.final_params = (1.0 - sparsity) * p.dense_params;
  p.tokens = request.flops / (6.0 * p.mean_params);
  p.loss = planned_loss(law.form, size_variable, c, p);
  return p;
}

bool better(const PlanCandidate& a, const PlanCandidate& b) {
  const double tie = 1e-12;
  if (a.loss < b.loss * (1 - tie)) return true;
  if (a.loss > b.loss * (1 + tie)) return false;
  if (a.final_params < b.final_params * (1 - tie)) return true;
  if (a.final_params > b.final_params * (1 + tie)) return false;
  return a.sparsity < b.sparsity;
}

}  // namespace

namespace {

void check_request(const PlanRequest& request) {
  if (!(request.flops > 0) || !std::isfinite(request.flops)) {
    throw UsageError("--flops must be a positive number of FLOP");
  }
  if (!(request.max_final_params > 0)) {
    throw UsageError("--max-final-params must be a positive parameter count");
  }
  if (!(request.max_sparsity >= 0 && request.max_sparsity < 1)) {
    throw UsageError("--max-sparsity must lie in [0, 1)");
  }
}

// The search of fit/planner.h with `make(sparsity, schedule)` giving each candidate.
template <typename Make>
Plan search(const PlanRequest& request, Make make) {
  Plan plan;
  plan.dense = make(0.0, ScheduleKind::kDense);
  plan.best = plan.dense;
  std::vector<double> sparsities;
  const int steps =
      static_cast<int>(std::floor(request.max_sparsity / request.sparsity_step + 1e-9));
  for (int i = 1; i <= steps; ++i) sparsities.push_back(i * request.sparsity_step);
  if (request.max_sparsity > 0 &&
      (sparsities.empty() || sparsities.back() < request.max_sparsity - 1e-12)) {
    sparsities.push_back(request.max_sparsity);
  }
  for (double s : sparsities) {
    for (const PruningSchedule& schedule : pruning_schedules()) {
      PlanCandidate p = make(s, schedule.kind);
      if (better(p, plan.best)) plan.best = p;
    }
  }
  return plan;
}

}  // namespace

Plan plan_compute(const Law& law, const PlanRequest& request) {
  if (law.form != LawForm::kChinchilla) {
    throw UsageError("planning needs the Chinchilla law with N = N-bar, not the " +
                     std::string(law_form_name(law.form)) + " law");
  }
  check_request(request);
  return search(request, [&](double sparsity, ScheduleKind schedule) {
    return candidate(law, request, sparsity, schedule);
  });
}

Plan plan_compute(const Law& law, SizeVariable size_variable, const PlanRequest& request) {
  if (law.form == LawForm::kChinchilla && size_variable == SizeVariable::kAverage) {
    return plan_compute(law, request);
  }
  check_request(request);
  return search(request, [&](double sparsity, ScheduleKind schedule) {
    return general_candidate(law, size_variable, request, sparsity, schedule);
  });
}

double planned_loss(LawForm form, SizeVariable size_variable, const std::vector<double>& c,
                    const PlanCandidate& run) {
  if (form == LawForm::kChinchilla) {
    const double n = size_variable == SizeVariable::kAverage ? run.mean_params
                     : size_variable == SizeVariable::kFinal ? run.final_params
                                                             : run.dense_params;
    return c[2] + c[0] / std::pow(n, c[3]) + c[1] / std::pow(run.tokens, c[4]);
  }
  return (c[0] * std::pow(1.0 - run.sparsity, c[1]) + c[2]) * std::pow(run.final_params, -c[3]) +
         std::pow(c[4] / run.tokens, c[5]) + c[6];
}

PlanIntervals plan_intervals(const Plan& plan, LawForm form, SizeVariable size_variable,
                             const std::vector<std::vector<double>>& draws) {
  std::vector<double> best, dense, difference;
  for (const std::vector<double>& draw : draws) {
    if (static_cast<int>(draw.size()) != parameter_count(form)) continue;
    const double b = planned_loss(form, size_variable, draw, plan.best);
    const double d = planned_loss(form, size_variable, draw, plan.dense);
    if (!std::isfinite(b) || !std::isfinite(d)) continue;
    best.push_back(b);
    dense.push_back(d);
    difference.push_back(d - b);
  }
  PlanIntervals out;
  out.draws = static_cast<int>(best.size());
  if (out.draws == 0) return out;
  auto interval = [](std::vector<double>& values) {
    std::sort(values.begin(), values.end());
    return LossInterval{quantile(values, 0.025), quantile(values, 0.975)};
  };
  out.best = interval(best);
  out.dense = interval(dense);
  out.difference = interval(difference);
  return out;
}

namespace {

// How many times `value` lies outside [range.min, range.max]: 1 inside, e.g. 30 when it is
// 30 times the maximum or a thirtieth of the minimum.
double times_outside(double value, const Range& range) {
  if (value > range.max && range.max > 0) return value / range.max;
  if (value < range.min && value > 0) return range.min / value;
  return 1.0;
}

std::string outside_text(const char* what, double value, const Range& range, double times) {
  char text[256];
  std::snprintf(text, sizeof text,
                "%s %.3g is %.0fx %s the fitted runs' range [%.3g, %.3g]: the law is "
                "extrapolated far beyond its data",
                what, value, times, value > range.max ? "above" : "below", range.min, range.max);
  return text;
}

}  // namespace

std::vector<std::string> plan_warnings(const Plan& plan, const PlanRequest& request,
                                       const FitEvidence& evidence) {
  std::vector<std::string> warnings;
  // The law's own N: N-bar (the default), N_final or the dense size P.
  const char* size_what = "the planned N-bar";
  double size_value = plan.best.mean_params;
  const Range* size_range = &evidence.n_avg;
  if (evidence.size_variable == SizeVariable::kFinal) {
    size_what = "the planned N_final";
    size_value = plan.best.final_params;
    size_range = &evidence.size;
  } else if (evidence.size_variable == SizeVariable::kInitial) {
    size_what = "the planned dense size P";
    size_value = plan.best.dense_params;
    size_range = &evidence.size;
  }
  const struct {
    const char* what;
    double value;
    const Range& range;
  } checks[] = {{"the budget C", request.flops, evidence.compute},
                {size_what, size_value, *size_range},
                {"the planned D", plan.best.tokens, evidence.tokens}};
  for (const auto& check : checks) {
    const double times = times_outside(check.value, check.range);
    if (times > kTrustedExtrapolation) {
      warnings.push_back(outside_text(check.what, check.value, check.range, times));
    }
  }
  // Sparsity is not extrapolated at all: nothing in the fitted runs says how the law behaves
  // above the largest sparsity they reached.
  constexpr double kSparsitySlack = 1e-9;
  if (request.max_sparsity > evidence.max_sparsity + kSparsitySlack) {
    char text[256];
    std::snprintf(text, sizeof text,
                  "the search goes up to sparsity %.3g, above the largest fitted (%.3g): "
                  "predictions there are extrapolated%s",
                  request.max_sparsity, evidence.max_sparsity,
                  plan.best.sparsity > evidence.max_sparsity + kSparsitySlack
                      ? ", and the recommended sparsity is one of them"
                      : "");
    warnings.push_back(text);
  }
  for (const std::string& reason : evidence.degenerate) {
    warnings.push_back("the " + evidence.law_name + " is degenerate (" + reason +
                       "): do not plan with it");
  }
  if (evidence.sizes < kMinSizes || evidence.durations_per_size < kMinDurations) {
    warnings.push_back("the law was fitted on " + std::to_string(evidence.sizes) +
                       " size(s) with at most " + std::to_string(evidence.durations_per_size) +
                       " duration(s) each, too few to separate the size and data terms");
  }
  const double gap = std::fabs(plan.dense.loss - plan.best.loss);
  if (plan.best.sparsity > 0 && gap <= evidence.in_sample_mae) {
    char text[320];
    std::snprintf(text, sizeof text,
                  "sparse and dense tie: their predicted losses differ by %.2g, within the "
                  "law's in-sample error (MAE %.2g), so the law does not choose between them; "
                  "sparsity %.3g is recommended only because it ends with a smaller model",
                  gap, evidence.in_sample_mae, plan.best.sparsity);
    warnings.push_back(text);
  }
  return warnings;
}

void check_sparsity_range(const PlanRequest& request, const FitEvidence& evidence,
                          bool extrapolate) {
  check_request(request);  // A value out of range is refused as such, not as extrapolation.
  if (extrapolate || request.max_sparsity <= evidence.max_sparsity + 1e-9) return;
  char text[320];
  std::snprintf(text, sizeof text,
                "--max-sparsity %.3g is above the largest sparsity of the fitted runs (%.3g): "
                "the law has seen no run there, so its predictions are extrapolated; pass "
                "--extrapolate to plan there anyway (the plan then warns)",
                request.max_sparsity, evidence.max_sparsity);
  throw UsageError(text);
}

}  // namespace journey
