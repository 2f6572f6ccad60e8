#include "schedules/phase_solver.h"

#include "common/pruning_schedules.h"

namespace journey {

double mean_pruning_density(ScheduleKind kind, double sparsity) {
  if (kind == ScheduleKind::kDense || sparsity == 0.0) return 1.0;
  return pruning_schedule(kind).mean_density(sparsity);
}

PhaseFractions solve_compute_phases(ScheduleKind kind, double sparsity, double dense_frac,
                                    double prune_end_frac) {
  const double g = mean_pruning_density(kind, sparsity);
  const double cs = dense_frac, ce = prune_end_frac;
  const double z = cs + (ce - cs) / g + (1.0 - ce) / (1.0 - sparsity);
  PhaseFractions f;
  f.start = cs / z;
  f.end = (cs + (ce - cs) / g) / z;
  f.mean_density = 1.0 / z;
  return f;
}

}  // namespace journey
