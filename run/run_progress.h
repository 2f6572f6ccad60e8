// progress.json: a running cell's newest step, rewritten atomically by its group leader every
// train.log_every steps (and at the last step), so that `journey status` reads numbers rather
// than parsing the human-readable progress line of train.log. The same record travels in the
// leader's Progress messages to the coordinator.
//
// {"cell_id": ..., "step": steps done, "total_steps": T, "loss": ..., "lr": ..., "density":
//  ..., "tokens_per_s": ..., "mfu": ..., "eta_s": ...}
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace journey {

struct RunProgress {
  std::string cell_id;
  int64_t step = 0;  // Steps done.
  int64_t total_steps = 0;
  double loss = 0;  // Training loss of the newest step.
  double lr = 0;
  double density = 0;
  double tokens_per_s = 0;
  double mfu = 0;
  double eta_s = 0;  // Estimated seconds to the end of this run.
};

nlohmann::json to_json(const RunProgress& progress);
// Throws DataError naming `origin` and the first missing or mistyped key.
RunProgress progress_from_json(const nlohmann::json& json, const std::string& origin);

// Writes dir/progress.json atomically.
void write_run_progress(const std::string& dir, const RunProgress& progress);

// dir/progress.json; nothing when there is none. DataError naming the file and the key when
// it is not a progress file.
std::optional<RunProgress> read_run_progress(const std::string& dir);

}  // namespace journey
