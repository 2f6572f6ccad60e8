#include "fit/planner.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.h"
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
    for (ScheduleKind kind : {ScheduleKind::kGeometric, ScheduleKind::kCubic}) {
      PlanCandidate p = candidate(law, request, s, kind);
      if (better(p, plan.best)) plan.best = p;
    }
  }
  return plan;
}

}  // namespace journey
