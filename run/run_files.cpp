#include "run/run_files.h"

#include <filesystem>
#include <vector>

#include "common/error.h"

namespace journey {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRunFiles[] = {"config.ini",    "metrics.csv",  "eval.csv",  "sparsity.csv",
                                     "progress.json", "summary.json", "train.log", "checkpoints"};
// TensorBoard event files (run/tensorboard_events.h) carry a time, host and pid in their names.
constexpr const char kEventsPrefix[] = "events.out.tfevents.";

// The run files present in `dir`, by name.
std::vector<std::string> run_files_in(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> found;
  for (const char* name : kRunFiles) {
    if (fs::exists(fs::symlink_status(fs::path(dir) / name, ec))) found.push_back(name);
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kEventsPrefix, 0) == 0) found.push_back(name);
  }
  return found;
}

}  // namespace

std::string set_aside_previous_run(const std::string& dir) {
  const std::vector<std::string> files = run_files_in(dir);
  if (files.empty()) return "";
  std::error_code ec;
  fs::path aside;
  for (int n = 1; aside.empty() || fs::exists(aside, ec); ++n) {
    aside = fs::path(dir) / ("replaced-" + std::to_string(n));
  }
  fs::create_directories(aside, ec);
  if (ec) throw DataError("cannot create " + aside.string() + ": " + ec.message());
  for (const std::string& name : files) {
    const fs::path from = fs::path(dir) / name;
    fs::rename(from, aside / name, ec);
    if (ec) {
      throw DataError("cannot move " + from.string() + " to " + aside.string() + ": " +
                      ec.message());
    }
  }
  return aside.string();
}

}  // namespace journey
