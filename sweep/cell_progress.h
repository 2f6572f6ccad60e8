// How far a cell's trainer has come, for `journey status` while a sweep runs: its
// progress.json (run/run_progress.h), written every train.log_every steps, or else the last
// row of metrics.csv, written at each checkpoint. Torch-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace journey {

struct CellProgress {
  int64_t step = 0;         // Steps done.
  int64_t total_steps = 0;  // 0 when the source does not say.
  double loss = 0;          // Training loss of the newest step.
  double lr = 0;            // Its learning rate.
  double eta_s = -1;        // The trainer's estimate of the seconds left; -1 when unknown.
  double age_s = 0;         // Seconds since the source file was written.
  std::string source;       // "progress.json" or "metrics.csv".
};

// The newest progress in `cell_dir` (DIR/cells/<id>); nullopt when it has none yet. Throws
// DataError when a file there is malformed.
std::optional<CellProgress> read_cell_progress(const std::string& cell_dir);

}  // namespace journey
