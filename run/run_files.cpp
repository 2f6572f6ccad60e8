#include "run/run_files.h"

#include <filesystem>

#include "common/error.h"

namespace journey {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRunFiles[] = {"config.ini",   "metrics.csv", "eval.csv",   "progress.json",
                                     "summary.json", "train.log",   "checkpoints"};

}  // namespace

std::string set_aside_previous_run(const std::string& dir) {
  std::error_code ec;
  bool any = false;
  for (const char* name : kRunFiles) any = any || fs::exists(fs::path(dir) / name, ec);
  if (!any) return "";
  fs::path aside;
  for (int n = 1; aside.empty() || fs::exists(aside, ec); ++n) {
    aside = fs::path(dir) / ("replaced-" + std::to_string(n));
  }
  fs::create_directories(aside, ec);
  if (ec) throw DataError("cannot create " + aside.string() + ": " + ec.message());
  for (const char* name : kRunFiles) {
    const fs::path from = fs::path(dir) / name;
    if (!fs::exists(fs::symlink_status(from, ec))) continue;
    fs::rename(from, aside / name, ec);
    if (ec) {
      throw DataError("cannot move " + from.string() + " to " + aside.string() + ": " +
                      ec.message());
    }
  }
  return aside.string();
}

}  // namespace journey
