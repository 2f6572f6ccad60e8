#include "sweep/cell_progress.h"

#include <chrono>
#include <filesystem>

#include "run/metrics_history.h"
#include "run/run_progress.h"

namespace journey {
namespace {

namespace fs = std::filesystem;

double age_seconds(const std::string& path) {
  std::error_code ec;
  const auto written = fs::last_write_time(path, ec);
  if (ec) return 0;
  return std::chrono::duration<double>(fs::file_time_type::clock::now() - written).count();
}

}  // namespace

std::optional<CellProgress> read_cell_progress(const std::string& cell_dir) {
  if (const std::optional<RunProgress> p = read_run_progress(cell_dir)) {
    return CellProgress{p->step,        p->total_steps, p->loss,
                        p->lr,          p->eta_s,       age_seconds(cell_dir + "/progress.json"),
                        "progress.json"};
  }
  const MetricsHistory history = read_metrics_csv(cell_dir);
  if (history.steps.empty()) return std::nullopt;
  const StepRecord& last = history.steps.back();
  return CellProgress{last.step + 1, 0,  last.loss,
                      last.lr,       -1, age_seconds(cell_dir + "/metrics.csv"),
                      "metrics.csv"};
}

}  // namespace journey
