#include "schedules/phase_solver.h"

#include <cmath>

namespace journey {

double mean_pruning_density(ScheduleKind kind, double sparsity) {
  if (kind == ScheduleKind::kDense || sparsity == 0.0) return 1.0;
  if (kind == ScheduleKind::kCubic) return 1.0 - 0.75 * sparsity;  // mean of 1 - S(1-(1-x)^3)
  return sparsity / std::log(1.0 / (1.0 - sparsity));  // mean of (1-S)^x over x in [0, 1]
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
