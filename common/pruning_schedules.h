// The gradual pruning schedules, one table entry each: adding a schedule is one entry here
// and its test (like LevelDB's filter policies). Config parsing, DensitySchedule, the phase
// solver, the planner and the sweep's schedule axis all read this table, so none of them can
// fall through to a default for a kind it does not know.
//
// An entry gives the keep fraction of prunable weights after each pruning event and the mean
// keep fraction g(S) of its continuous pruning phase, which sets the phases' compute
// (schedules/phase_solver.h). Events are j = 1..K at steps t_j from t_s to t_e; `progress` is
// (t_j - t_s) / (t_e - t_s) (0 for a single event). The last event reaches exactly 1 - S:
// DensitySchedule sets it rather than asking the entry.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"  // ScheduleKind

namespace journey {

struct PruningSchedule {
  ScheduleKind kind;
  const char* name;  // The config value (prune.schedule, sweep.schedules) and in cell ids.
  const char* formula;
  double (*keep_after_event)(double sparsity, int64_t j, int64_t events, double progress);
  double (*mean_density)(double sparsity);  // g(S), for 0 < S < 1.
};

// Every gradual schedule (dense is none), in the order help texts and the planner list them.
const std::vector<PruningSchedule>& pruning_schedules();

// The entry of `kind`; std::invalid_argument for kDense, which prunes nothing.
const PruningSchedule& pruning_schedule(ScheduleKind kind);

// "geometric or cubic": the names, for error messages and help.
std::string pruning_schedule_names();

}  // namespace journey
