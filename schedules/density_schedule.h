// When pruning happens and how much survives: the discrete density schedule of one run.
//
// Pruning events fall every `interval` (Delta) steps from t_s to t_e inclusive, so there are
// K = (t_e - t_s) / Delta + 1 of them. Event j (1-based, at step t_s + (j-1) Delta) sets the
// keep fraction of prunable weights by the schedule's entry in common/pruning_schedules.h,
// e.g.
//   geometric (the authors' code):  keep_j = (1 - S)^(j / K)
//   cubic (Zhu & Gupta 2017):       keep_j = 1 - S (1 - (1 - (t_j - t_s) / (t_e - t_s))^3)
// and the last event, at t_e, reaches exactly 1 - S. An event prunes before that step's
// update: the keep fraction "at step t" is the one in force while step t trains.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"  // ScheduleKind

namespace journey {

struct PruneEvent {
  int64_t step = 0;
  double keep = 1.0;  // Fraction of prunable weights kept from this step on.
};

class DensitySchedule {
 public:
  // A dense run: no events, keep 1 throughout.
  explicit DensitySchedule(int64_t total_steps);
  // Requires 0 <= start <= end < total_steps, interval >= 1, (end - start) % interval == 0.
  DensitySchedule(ScheduleKind kind, double sparsity, int64_t start, int64_t end, int64_t interval,
                  int64_t total_steps);

  ScheduleKind kind() const { return kind_; }
  double sparsity() const { return sparsity_; }
  int64_t start_step() const { return start_; }
  int64_t end_step() const { return end_; }
  int64_t interval() const { return interval_; }
  int64_t total_steps() const { return total_steps_; }
  const std::vector<PruneEvent>& events() const { return events_; }

  // Keep fraction in force while `step` trains (after an event at that step).
  double keep_at(int64_t step) const;
  // The event at `step`, or nullptr.
  const PruneEvent* event_at(int64_t step) const;

 private:
  ScheduleKind kind_ = ScheduleKind::kDense;
  double sparsity_ = 0.0;
  int64_t start_ = 0, end_ = 0, interval_ = 1, total_steps_ = 0;
  std::vector<PruneEvent> events_;
};

// How many of n weights an event with keep fraction `keep` keeps: floor(keep * n). The
// pruner and every prediction share this one rule (ties at the threshold may keep more).
int64_t kept_count(double keep, int64_t n);

}  // namespace journey
