// What a run records: one StepRecord per training step and one EvalRecord per evaluation.
//
// The history travels inside checkpoints (history/<field>, docs/checkpoint-format.md) so a
// resumed run continues it, and is written as metrics.csv (the StepRecord fields, in order)
// and eval.csv (step, eval_loss) when a run ends or checkpoints. N_t (`active`) is recorded
// for every step, so N-bar is an exact sum. read_metrics_csv() is the one reader of those
// files: the results table, the report and `journey status` all use it.
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

// The StepRecord fields in metrics.csv's column order: the one list that the checkpoint
// series, the CSV writer and the CSV reader walk.
// clang-format off
#define JOURNEY_STEP_RECORD_FIELDS(X) \
  X(step) X(loss) X(lr) X(grad_norm) X(active) X(density) X(tokens) X(flops) X(tokens_per_s) \
  X(mfu) X(epoch) X(elapsed_s)
// clang-format on

struct EvalRecord {
  int64_t step = 0;  // Evaluated after this many steps.
  double loss = 0;
};

// The alive weights of every prunable matrix after one pruning event: under one global
// threshold matrices lose weights at very different rates (some reach 99 % sparsity), which
// only these counts show.
struct PruneRecord {
  int64_t step = 0;            // The event's step.
  std::vector<int64_t> alive;  // Per prunable matrix, in ModelSpec order.
};

struct MetricsHistory {
  std::vector<StepRecord> steps;
  std::vector<EvalRecord> evals;
  std::vector<PruneRecord> prunes;
  // The prunable matrices' names and sizes, for sparsity.csv; set by the trainer (they follow
  // from the model, so checkpoints do not store them).
  std::vector<std::string> matrix_names;
  std::vector<int64_t> matrix_sizes;

  // Mean of N_t over the recorded steps (N-bar so far).
  double mean_active() const;
  void save(CheckpointWriter& writer) const;
  static MetricsHistory load(const CheckpointReader& reader);
  // Writes dir/metrics.csv, dir/eval.csv and, when the run pruned and the matrices are
  // named, dir/sparsity.csv (step, then each matrix's density after the event), atomically.
  void write_csv(const std::string& dir) const;
};

// dir/sparsity.csv: per-matrix density after each pruning event.
struct MatrixDensities {
  std::vector<std::string> names;
  std::vector<int64_t> steps;
  std::vector<std::vector<double>> density;  // [event][matrix]
};
// Empty when the file does not exist; DataError naming the file and line when malformed.
MatrixDensities read_sparsity_csv(const std::string& dir);

// A history from the text of metrics.csv and eval.csv (either may be empty). Columns are
// found by name; metrics.csv needs at least step, loss, active, density and tokens (the
// others read as 0 when absent), eval.csv step and eval_loss. Throws DataError naming
// `origin`, the line and the column for a missing column, a short row or a non-number.
MetricsHistory parse_metrics_csv(const std::string& metrics_csv, const std::string& eval_csv,
                                 const std::string& origin);

// parse_metrics_csv() of dir/metrics.csv and dir/eval.csv; a missing file reads as empty.
MetricsHistory read_metrics_csv(const std::string& dir);

}  // namespace journey
