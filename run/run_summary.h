// One run's record: what summary.json holds, what a group leader reports to the coordinator
// in its Done message, and the results of a sweep's row (sweep/cell_record.h). One field
// list, read back with every key checked: a missing or mistyped key is a DataError naming
// it, never a silent 0.
//
// RunCosts (where the time and memory went) goes to summary.json only, for benchmarks.
#pragma once

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace journey {

// How a run ended: trained to the end, stopped by divergence, stopped by a signal (resume
// it), or failed with an error before or while training.
enum class RunStatus { kDone, kDiverged, kPreempted, kFailed };
const char* status_name(RunStatus status);            // "done", "diverged", "preempted", "failed"
RunStatus parse_run_status(const std::string& name);  // DataError for any other name.

struct RunSummary {
  std::string cell_id;
  RunStatus status = RunStatus::kDone;
  std::string reason;  // Why the run did not finish, if it did not.
  int64_t steps_done = 0;
  int64_t total_steps = 0;
  int64_t tokens = 0;            // D: tokens trained on.
  int64_t n_initial = 0;         // Prunable parameters of the dense model.
  int64_t n_final = 0;           // Active prunable parameters at the end.
  double n_avg = 0;              // N-bar over the steps trained (exact, from N_t).
  double n_avg_predicted = 0;    // N-bar of the whole run as planned (schedules/run_plan.h).
  int64_t embedding_params = 0;  // Token embedding (not prunable).
  double compute = 0;            // C = sum_t 6 N_t B over the steps trained.
  // Losses are NaN when there is none: final_loss before any step trained, final_eval_loss
  // for every run that did not finish (diverged, preempted, failed): a mid-run evaluation is
  // not the run's result. JSON writes NaN as null.
  double final_loss = std::nan("");       // Training loss of the last step trained.
  double final_eval_loss = std::nan("");  // Validation loss at the end (the value the law fits).
  double wall_s = 0;        // Wall time of this attempt (one process's part of the run).
  double tokens_per_s = 0;  // Mean over this attempt's steps.
  int64_t group_size = 0;   // Ranks that trained it.

  nlohmann::json to_json() const;
  // Throws DataError naming `origin` and the first missing or mistyped key.
  static RunSummary from_json(const nlohmann::json& json, const std::string& origin);
};

struct RunCosts {
  double steps_s = 0, collectives_s = 0, pruning_s = 0;  // This attempt's seconds.
  std::vector<double> peak_rss_mb_per_rank;
  double sharded_state_mb_per_rank = 0;                        // Weights, grads, moments, masks.
  std::vector<std::pair<std::string, double>> final_sparsity;  // Per prunable matrix.
};

// summary.json: the summary's fields, then the costs'.
std::string summary_json_text(const RunSummary& summary, const RunCosts& costs);

// `value` as an int64_t when it is a JSON integer that fits one; DataError otherwise. Readers
// of integer keys use it rather than get<int64_t>(), which converts a float or a larger
// unsigned number with a bare cast (undefined behaviour for 1e300: tests/fuzz/regressions/ledger).
int64_t json_int64(const nlohmann::json& value);

}  // namespace journey
