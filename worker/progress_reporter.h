// What the group leader shows while a run trains: every train.log_every steps and at the
// last step, a line for people ("<cell> step 40/96 | loss 5.61 | lr ... | ETA 0h01m10s") on
// stdout or appended to a log file, and the same numbers in out_dir/progress.json for
// `journey status` (run/run_progress.h).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "run/run_progress.h"

namespace journey {

class ProgressReporter {
 public:
  // `log_path` empty: print to stdout. `print` false: only progress.json is written.
  // Throws DataError when the log cannot be opened for appending or is a symbolic link.
  ProgressReporter(std::string cell_id, std::string out_dir, const std::string& log_path,
                   bool print, int64_t total_steps, int64_t log_every);

  // After `progress.step` steps are done.
  void after_step(const RunProgress& progress);

 private:
  std::string cell_id_, out_dir_;
  bool print_;
  int64_t total_steps_, log_every_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> log_file_{nullptr, &std::fclose};
};

}  // namespace journey
