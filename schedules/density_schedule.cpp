#include "schedules/density_schedule.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "common/error.h"
#include "common/pruning_schedules.h"

namespace journey {

DensitySchedule::DensitySchedule(int64_t total_steps) : total_steps_(total_steps) {}

DensitySchedule::DensitySchedule(ScheduleKind kind, double sparsity, int64_t start, int64_t end,
                                 int64_t interval, int64_t total_steps)
    : kind_(kind),
      sparsity_(sparsity),
      start_(start),
      end_(end),
      interval_(interval),
      total_steps_(total_steps) {
  assert(0 <= start && start <= end && end < total_steps && interval >= 1);
  assert((end - start) % interval == 0);
  if (kind == ScheduleKind::kDense || sparsity == 0.0) {
    kind_ = ScheduleKind::kDense;
    sparsity_ = 0.0;
    return;
  }
  const int64_t num_events = (end - start) / interval + 1;  // K
  for (int64_t j = 1; j <= num_events; ++j) {
    const int64_t step = start + (j - 1) * interval;
    const double progress =
        end > start ? static_cast<double>(step - start) / static_cast<double>(end - start) : 0.0;
    const double keep =
        j == num_events  // Exactly 1 - S, not up to the formula's rounding.
            ? 1.0 - sparsity
            : pruning_schedule(kind).keep_after_event(sparsity, j, num_events, progress);
    events_.push_back({step, keep});
  }
}

double DensitySchedule::keep_at(int64_t step) const {
  // The last event at or before `step`.
  auto after = std::upper_bound(events_.begin(), events_.end(), step,
                                [](int64_t s, const PruneEvent& e) { return s < e.step; });
  return after == events_.begin() ? 1.0 : std::prev(after)->keep;
}

const PruneEvent* DensitySchedule::event_at(int64_t step) const {
  auto it = std::lower_bound(events_.begin(), events_.end(), step,
                             [](const PruneEvent& e, int64_t s) { return e.step < s; });
  return (it != events_.end() && it->step == step) ? &*it : nullptr;
}

int64_t kept_count(double keep, int64_t n) {
  // The small epsilon keeps products like 0.8 * 1000 = 799.9999... from losing a weight.
  return std::min<int64_t>(n, static_cast<int64_t>(std::floor(keep * n + 1e-9)));
}

}  // namespace journey
