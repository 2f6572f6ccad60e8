#include "fit/planner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "common/error.h"
#include "common/pruning_schedules.h"
#include "schedules/phase_solver.h"

namespace journey {
namespace {

// The best candidate with this sparsity and schedule.
PlanCandidate candidate(const Law& law, const PlanRequest& request, double sparsity,
                        ScheduleKind schedule) {
  const std::vector<double> c = law.coefficients();  // A, B, E, alpha, beta
  const double A = c[0], B = c[1], E = c[2], alpha = c[3], beta = c[4];
  const double mean_density =
      schedule == ScheduleKind::kDense
          ? 1.0
          : solve_compute_phases(schedule, sparsity, request.dense_frac, request.prune_end_frac)
                .mean_density;
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

bool better(const PlanCandidate& a, const PlanCandidate& b) {
  const double tie = 1e-12;
  if (a.loss < b.loss * (1 - tie)) return true;
  if (a.loss > b.loss * (1 + tie)) return false;
  if (a.final_params < b.final_params * (1 - tie)) return true;
  if (a.final_params > b.final_params * (1 + tie)) return false;
  return a.sparsity < b.sparsity;
}

}  // namespace

Plan plan_compute(const Law& law, const PlanRequest& request) {
  if (law.form != LawForm::kChinchilla) {
    throw UsageError("planning needs the Chinchilla law with N = N-bar, not the " +
                     std::string(law_form_name(law.form)) + " law");
  }
  if (!(request.flops > 0) || !std::isfinite(request.flops)) {
    throw UsageError("--flops must be a positive number of FLOP");
  }
  if (!(request.max_final_params > 0)) {
    throw UsageError("--max-final-params must be a positive parameter count");
  }
  if (!(request.max_sparsity >= 0 && request.max_sparsity < 1)) {
    throw UsageError("--max-sparsity must lie in [0, 1)");
  }
  Plan plan;
  plan.dense = candidate(law, request, 0.0, ScheduleKind::kDense);
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
      PlanCandidate p = candidate(law, request, s, schedule.kind);
      if (better(p, plan.best)) plan.best = p;
    }
  }
  return plan;
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
  const struct {
    const char* what;
    double value;
    const Range& range;
  } checks[] = {{"the budget C", request.flops, evidence.compute},
                {"the planned N-bar", plan.best.mean_params, evidence.n_avg},
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
    warnings.push_back("the N-bar law is degenerate (" + reason + "): do not plan with it");
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

}  // namespace journey
