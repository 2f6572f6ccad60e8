// How far a cell's trainer has come, read from the files it writes, for `journey status`
// while a sweep runs: the newest progress line of DIR/cells/<id>/train.log
// ("<id> step 40/96 | loss 5.6123 | ..."), written every train.log_every steps, or else the
// last row of metrics.csv, written at each checkpoint. Torch-free; reads only the end of the
// log, however long it has grown.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace journey {

struct CellProgress {
  int64_t step = 0;         // Steps done.
  int64_t total_steps = 0;  // 0 when the source does not say.
  double loss = 0;          // Training loss of the newest step.
  double age_s = 0;         // Seconds since the source file was written.
  std::string source;       // "train.log" or "metrics.csv".
};

// Parses a train.log progress line; nullopt for any other line.
std::optional<CellProgress> parse_progress_line(const std::string& line);

// The newest progress in `cell_dir` (DIR/cells/<id>); nullopt when it has none yet.
std::optional<CellProgress> read_cell_progress(const std::string& cell_dir);

}  // namespace journey
