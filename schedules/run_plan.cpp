#include "schedules/run_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "schedules/model_spec.h"
#include "schedules/phase_solver.h"

namespace journey {
namespace {

// Pruning boundaries in steps, on the Delta grid: t_s rounds to the nearest multiple of
// Delta, t_e to the nearest t_s + n Delta, and t_e stays inside the run.
void place_boundaries(const RunConfig& config, int64_t total_steps, ScheduleKind kind,
                      int64_t* start, int64_t* end, int64_t* interval) {
  const PruneConfig& p = config.prune;
  *interval = p.interval > 0 ? p.interval : auto_interval(total_steps);
  double start_exact, end_exact;
  if (p.start_step >= 0) {
    if (p.end_step >= total_steps) {
      throw UsageError("config key prune.end_step = " + std::to_string(p.end_step) +
                       " is invalid: the run has only " + std::to_string(total_steps) +
                       " steps (0 .. " + std::to_string(total_steps - 1) + ")");
    }
    if ((p.end_step - p.start_step) % *interval != 0) {
      throw UsageError("config key prune.interval = " + std::to_string(*interval) +
                       " is invalid: it must divide prune.end_step - prune.start_step = " +
                       std::to_string(p.end_step - p.start_step));
    }
    *start = p.start_step;
    *end = p.end_step;
    return;
  }
  if (p.phase_units == PhaseUnits::kSteps) {
    start_exact = p.dense_frac * total_steps;
    end_exact = p.prune_end_frac * total_steps;
  } else {
    PhaseFractions f = solve_compute_phases(kind, p.sparsity, p.dense_frac, p.prune_end_frac);
    start_exact = f.start * total_steps;
    end_exact = f.end * total_steps;
  }
  if (p.interval > 0 && p.interval > end_exact - start_exact) {
    // Rounding both boundaries to multiples of a Delta wider than the span would move them
    // far from the requested phases (a single event at step 0 in the extreme).
    throw UsageError("config key prune.interval = " + std::to_string(p.interval) +
                     " is invalid: it must be at most the pruning span, " +
                     std::to_string(static_cast<int64_t>(end_exact - start_exact)) +
                     " steps of this run (0 chooses it automatically)");
  }
  const int64_t last = total_steps - 1;
  int64_t s = static_cast<int64_t>(std::llround(start_exact / *interval)) * *interval;
  s = std::min(s, last - last % *interval);
  int64_t n = std::max<int64_t>(0, std::llround((end_exact - s) / *interval));
  while (n > 0 && s + n * *interval > last) --n;
  *start = s;
  *end = s + n * *interval;
}

// Every prunable matrix must keep a weight at the final sparsity: S = 0.9999999 once ran and
// reported "done" with every weight pruned.
void check_sparsity_leaves_weights(const RunConfig& config, const RunPlan& plan) {
  const double s = config.prune.sparsity;
  if (s == 0.0) return;
  const int64_t smallest =
      *std::min_element(plan.prunable_numels.begin(), plan.prunable_numels.end());
  if (kept_count(1.0 - s, smallest) < 1) {
    char limit[64];
    std::snprintf(limit, sizeof limit, "%.9g", 1.0 - 1.0 / static_cast<double>(smallest));
    char value[32];
    std::snprintf(value, sizeof value, "%.9g", s);
    reject_config_value("prune.sparsity", value,
                        "it would leave less than one weight in a matrix of " +
                            std::to_string(smallest) +
                            " weights, the smallest this model prunes; use at most " + limit);
  }
}

// Rounding to whole steps and to the Delta grid moves the phases; the compute fractions that
// result are what the run tests, so a shift beyond 0.02 is said rather than left silent
// (it happens at high sparsity, where the last events carry little compute, and in short
// runs).
void warn_if_phases_moved(const RunConfig& config, RunPlan* plan) {
  const PruneConfig& p = config.prune;
  if (p.sparsity == 0.0 || p.start_step >= 0 || p.phase_units != PhaseUnits::kCompute) return;
  const double want[3] = {p.dense_frac, p.prune_end_frac - p.dense_frac, 1.0 - p.prune_end_frac};
  const double got[3] = {plan->dense_compute_frac, plan->pruning_compute_frac,
                         plan->recovery_compute_frac};
  double worst = 0;
  for (int i = 0; i < 3; ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
  if (worst <= kPhaseTolerance) return;
  char text[256];
  std::snprintf(text, sizeof text,
                "the phases take %.1f/%.1f/%.1f %% of compute, not the requested "
                "%.1f/%.1f/%.1f %% (dense/pruning/recovery), after rounding to whole steps and "
                "to pruning events every %lld steps",
                100 * got[0], 100 * got[1], 100 * got[2], 100 * want[0], 100 * want[1],
                100 * want[2], static_cast<long long>(plan->schedule.interval()));
  plan->warnings.push_back(text);
}

}  // namespace

int64_t auto_interval(int64_t total_steps) {
  return std::max<int64_t>(1, total_steps / 100);
}

double step_flops(const ModelConfig& model, int64_t active, int64_t tokens_per_step) {
  const double attention = 12.0 * model.n_layers * model.d_model * model.seq_len;
  return (6.0 * active + attention) * tokens_per_step;
}

RunPlan make_plan(const RunConfig& config) {
  RunPlan plan;
  const ModelConfig& m = config.model;
  plan.params = count_params(m, config.data.vocab_size);
  const ModelSpec spec = make_model_spec(m, config.data.vocab_size);
  const std::vector<bool> excluded = excluded_params(spec, config.prune.exclude);
  int64_t excluded_numel = 0;
  for (size_t i = 0; i < spec.params.size(); ++i) {
    if (!spec.params[i].prunable) continue;
    plan.prunable_numels.push_back(spec.params[i].numel());
    if (excluded[i]) excluded_numel += spec.params[i].numel();
  }
  plan.tokens_per_step = config.train.batch_tokens;
  plan.sequences_per_step = config.train.batch_tokens / m.seq_len;

  const double wanted_tokens = config.train.tokens > 0
                                   ? static_cast<double>(config.train.tokens)
                                   : config.train.tokens_per_param * plan.params.total();
  // The plan holds N_t for every step; a billion steps is far beyond any real run, and
  // checking before rounding keeps llround defined.
  constexpr double kMaxSteps = 1e9;
  if (!(wanted_tokens / plan.tokens_per_step <= kMaxSteps)) {
    throw UsageError("config gives " + std::to_string(wanted_tokens) +
                     " training tokens, more than 1e9 steps of train.batch_tokens = " +
                     std::to_string(plan.tokens_per_step) +
                     ": lower train.tokens or train.tokens_per_param");
  }
  plan.total_steps = std::llround(wanted_tokens / plan.tokens_per_step);
  if (plan.total_steps < 1) {
    throw UsageError("config gives " + std::to_string(wanted_tokens) +
                     " training tokens, less than one batch of train.batch_tokens = " +
                     std::to_string(plan.tokens_per_step) +
                     ": raise train.tokens or train.tokens_per_param");
  }
  plan.total_tokens = plan.total_steps * plan.tokens_per_step;

  const PruneConfig& p = config.prune;
  check_sparsity_leaves_weights(config, plan);
  if (excluded_numel > kept_count(1.0 - p.sparsity, plan.params.prunable)) {
    reject_config_value("prune.exclude", p.exclude,
                        "the excluded matrices hold " + std::to_string(excluded_numel) +
                            " weights, more than the " +
                            std::to_string(kept_count(1.0 - p.sparsity, plan.params.prunable)) +
                            " that sparsity " + std::to_string(p.sparsity) + " keeps");
  }
  if (p.sparsity == 0.0) {
    plan.schedule = DensitySchedule(plan.total_steps);
  } else {
    const ScheduleKind kind = p.schedule;
    int64_t start = 0, end = 0, interval = 1;
    place_boundaries(config, plan.total_steps, kind, &start, &end, &interval);
    plan.schedule = DensitySchedule(kind, p.sparsity, start, end, interval, plan.total_steps);
  }

  // N_t exactly as the pruner leaves it: one threshold over all prunable weights keeps
  // floor(keep * P); per-layer pruning keeps floor(keep * n_i) of each matrix.
  const bool per_layer = p.scope == PruneScope::kLayer;
  plan.active.resize(plan.total_steps);
  double sum = 0, phase_sum[3] = {0, 0, 0};
  int64_t current = plan.params.prunable;
  for (int64_t t = 0; t < plan.total_steps; ++t) {
    if (const PruneEvent* event = plan.schedule.event_at(t)) {
      if (per_layer) {
        current = 0;
        for (int64_t n : plan.prunable_numels) current += kept_count(event->keep, n);
      } else {
        current = kept_count(event->keep, plan.params.prunable);
      }
    }
    plan.active[t] = current;
    sum += static_cast<double>(current);
    const bool pruning = !plan.schedule.events().empty();
    const int phase = !pruning || t < plan.schedule.start_step() ? 0
                      : t < plan.schedule.end_step()             ? 1
                                                                 : 2;
    phase_sum[phase] += static_cast<double>(current);
    plan.executed_flops += step_flops(m, plan.params.prunable, plan.tokens_per_step);
  }
  plan.mean_active = sum / plan.total_steps;
  plan.final_active = plan.active.back();
  plan.compute = 6.0 * sum * plan.tokens_per_step;
  plan.dense_compute_frac = phase_sum[0] / sum;
  plan.pruning_compute_frac = phase_sum[1] / sum;
  plan.recovery_compute_frac = phase_sum[2] / sum;
  warn_if_phases_moved(config, &plan);
  return plan;
}

}  // namespace journey
