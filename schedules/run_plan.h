// Everything about one run that follows from its config before any compute is spent:
// steps, tokens, the pruning schedule, the predicted active-parameter counts N_t, their
// average N-bar, and the compute C. The trainer follows this plan; the coordinator and the
// fit read its predictions; `journey schedule` prints it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "schedules/density_schedule.h"
#include "schedules/param_count.h"

namespace journey {

struct RunPlan {
  ParamCounts params;
  std::vector<int64_t> prunable_numels;  // Each prunable matrix, model order (layer scope).
  int64_t sequences_per_step = 0;
  int64_t tokens_per_step = 0;
  int64_t total_steps = 0;   // T
  int64_t total_tokens = 0;  // D = T * tokens_per_step
  DensitySchedule schedule{0};

  // Active prunable weights while step t trains (N_t), as the pruner will leave them.
  std::vector<int64_t> active;
  double mean_active = 0;     // N-bar = (1/T) sum_t N_t
  int64_t final_active = 0;   // N_final
  double compute = 0;         // C = sum_t 6 N_t tokens_per_step (the paper's compute)
  double executed_flops = 0;  // Dense matmul work actually done (masks do not skip work)
  // Shares of C spent in each phase, as achieved after rounding to whole steps.
  double dense_compute_frac = 0, pruning_compute_frac = 0, recovery_compute_frac = 0;
  // What the user should know before spending compute on this plan: the achieved phase
  // shares differ from the requested ones by more than kPhaseTolerance.
  std::vector<std::string> warnings;
};

// How far achieved compute shares may drift from the requested ones before the plan warns.
constexpr double kPhaseTolerance = 0.02;

// Builds the plan; throws UsageError when the config gives no whole step, the explicit
// boundaries fall outside the run, or the sparsity would leave a prunable matrix with less
// than one weight.
RunPlan make_plan(const RunConfig& config);

// Training FLOPs of one step with `active` prunable weights: 6 N B for the matmuls plus the
// attention scores and values, 12 L d s per token (the PaLM convention).
double step_flops(const ModelConfig& model, int64_t active, int64_t tokens_per_step);

// The interval used when prune.interval = 0: about 100 intervals per run, at least 1 step.
int64_t auto_interval(int64_t total_steps);

}  // namespace journey
