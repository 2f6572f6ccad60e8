// One row of a sweep: a cell's axes, its state in the sweep and, once trained, the summary
// its trainer reported (run/run_summary.h). The ledger (sweep/ledger.h) holds one per cell;
// results.csv and results.h5 are these rows (docs/results-format.md lists the columns).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "run/run_summary.h"

namespace journey {

struct Cell;

// pending -> running -> done | diverged | failed | preempted (preempted and pending run again
// on resume, failed only with --retry-failed, from the newest valid checkpoint; diverged is
// final: the same config diverges the same way again).
enum class CellStatus { kPending, kRunning, kDone, kFailed, kPreempted, kDiverged };
// Whether a cell ended without a result (failed or diverged).
inline bool is_unsuccessful(CellStatus s) {
  return s == CellStatus::kFailed || s == CellStatus::kDiverged;
}
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
  double lr = 0;             // Peak learning rate (sweep.lr may set it per size).
  int64_t batch_tokens = 0;  // Global batch (sweep.batch_tokens may set it per size).
  double estimated_flops = 0;
  // SHA-256 of the cell's result_identity() without [sweep] (common/config.h): a sweep
  // directory refuses a grid that would give a cell it holds another config. Empty in
  // ledgers written before it.
  std::string config_sha256;

  // Sweep state.
  CellStatus status = CellStatus::kPending;
  std::string reason;  // Why it failed or stopped.
  int64_t attempts = 0;
  int64_t group = -1;  // Worker group that ran it last.
  int64_t group_size = 0;

  double wall_s = 0;  // Summed over attempts.

  // The newest attempt's summary (complete once done; partial for failed or preempted cells).
  RunSummary run;

  static CellRecord from_cell(const Cell& cell);
  // The ledger's form: the axes and state, and the summary under "run".
  nlohmann::json to_json() const;
  // Reads that form; also the flat result fields of version 1 ledgers (`ledger_version`).
  static CellRecord from_json(const nlohmann::json& j, int ledger_version);
};

}  // namespace journey
