#include "common/pruning_schedules.h"

#include <cmath>
#include <stdexcept>

#include "common/named_values.h"

namespace journey {
namespace {

// The authors' code: keep_j = (1 - S)^(j / K), the same factor removed at every event.
double geometric_keep(double sparsity, int64_t j, int64_t events, double) {
  return std::pow(1.0 - sparsity, static_cast<double>(j) / static_cast<double>(events));
}
// Mean of (1 - S)^x over x in [0, 1].
double geometric_mean(double sparsity) {
  return sparsity / std::log(1.0 / (1.0 - sparsity));
}

// Zhu & Gupta (2017): keep = 1 - S (1 - (1 - progress)^3), fast at first, slow at the end.
double cubic_keep(double sparsity, int64_t, int64_t, double progress) {
  return 1.0 - sparsity * (1.0 - std::pow(1.0 - progress, 3));
}
// Mean of 1 - S (1 - (1 - x)^3) over x in [0, 1].
double cubic_mean(double sparsity) {
  return 1.0 - 0.75 * sparsity;
}

}  // namespace

const std::vector<PruningSchedule>& pruning_schedules() {
  static const std::vector<PruningSchedule> table = {
      {ScheduleKind::kGeometric, "geometric", "keep_j = (1 - S)^(j / K)", geometric_keep,
       geometric_mean},
      {ScheduleKind::kCubic, "cubic", "keep_j = 1 - S (1 - (1 - (t_j - t_s) / (t_e - t_s))^3)",
       cubic_keep, cubic_mean},
  };
  return table;
}

const PruningSchedule& pruning_schedule(ScheduleKind kind) {
  for (const PruningSchedule& s : pruning_schedules()) {
    if (s.kind == kind) return s;
  }
  throw std::invalid_argument("a dense run has no pruning schedule");
}

std::string pruning_schedule_names() {
  return names_of(pruning_schedules());
}

}  // namespace journey
