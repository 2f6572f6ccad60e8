// One row of a sweep: a cell's axes, its state in the sweep and, once trained, its results.
// The ledger (sweep/ledger.h) holds one per cell; results.csv and results.h5 are these
// rows (docs/results-format.md lists the columns).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace journey {

struct Cell;

// pending -> running -> done | failed | preempted (preempted and pending run again on resume;
// failed only with --retry-failed).
enum class CellStatus { kPending, kRunning, kDone, kFailed, kPreempted };
const char* cell_status_name(CellStatus status);
CellStatus parse_cell_status(const std::string& name);  // Throws DataError if unknown.

struct CellRecord {
  // Axes.
  std::string id;
  std::string size;  // DxLxH
  int64_t d_model = 0, n_layers = 0, n_heads = 0;
  double sparsity = 0;
  std::string schedule;  // geometric, cubic, or dense
  double dense_frac = 0, prune_end_frac = 0;
  double tokens_per_param = 0;
  int64_t seed = 0;
  double estimated_flops = 0;

  // Sweep state.
  CellStatus status = CellStatus::kPending;
  std::string reason;  // Why it failed or stopped.
  int64_t attempts = 0;
  int64_t group = -1;  // Worker group that ran it last.
  int64_t group_size = 0;

  // Results (valid once done; partial for failed or preempted cells).
  int64_t steps_done = 0, total_steps = 0, tokens = 0;
  double n_avg = 0, n_final = 0, n_initial = 0, embedding_params = 0;
  double compute = 0;
  double final_loss = 0, eval_loss = 0;
  double wall_s = 0, tokens_per_s = 0;

  static CellRecord from_cell(const Cell& cell);
  nlohmann::json to_json() const;
  static CellRecord from_json(const nlohmann::json& j);
};

}  // namespace journey
