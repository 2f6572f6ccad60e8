// What a run records: one StepRecord per training step and one EvalRecord per evaluation.
//
// The history travels inside checkpoints (history/<series>, docs/checkpoint-format.md) so a
// resumed run continues it, and is written as metrics.csv and eval.csv when a run ends or
// checkpoints. N_t (`active`) is recorded for every step, so N-bar is an exact sum.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace journey {

class CheckpointWriter;
class CheckpointReader;

struct StepRecord {
  int64_t step = 0;
  double loss = 0;  // Mean cross-entropy over the global batch, nats per token.
  double lr = 0;
  double grad_norm = 0;  // Global norm before clipping.
  int64_t active = 0;    // N_t: prunable weights alive while this step trained.
  double density = 0;    // N_t / P
  int64_t tokens = 0;    // Tokens seen after this step.
  double flops = 0;      // Training FLOPs of this step: 6 N_t B plus attention.
  double tokens_per_s = 0;
  double mfu = 0;        // Executed FLOP/s over the measured float32 matmul peak.
  double epoch = 0;      // Epochs of the training stream consumed.
  double elapsed_s = 0;  // Wall time since the run (not this process) started.
};

struct EvalRecord {
  int64_t step = 0;  // Evaluated after this many steps.
  double loss = 0;
};

struct MetricsHistory {
  std::vector<StepRecord> steps;
  std::vector<EvalRecord> evals;

  // Mean of N_t over the recorded steps (N-bar so far).
  double mean_active() const;
  void save(CheckpointWriter& writer) const;
  static MetricsHistory load(const CheckpointReader& reader);
  // Writes dir/metrics.csv and dir/eval.csv, each atomically.
  void write_csv(const std::string& dir) const;
};

}  // namespace journey
