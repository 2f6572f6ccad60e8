// Where the dense, pruning and recovery phases fall, given as fractions of compute.
//
// Compute is active prunable parameters times tokens, so a sparse phase is cheaper per step.
// With keep fraction 1 until t_s, a continuous decay to 1 - S between t_s and t_e, and 1 - S
// afterwards, the pruning phase costs g(S) per step relative to dense, where g is the mean
// density of the decay:
//   geometric: g(S) = S / ln(1 / (1 - S))      cubic: g(S) = 1 - 3 S / 4
// Asking the phases to take fractions c_s, c_e - c_s and 1 - c_e of compute C gives, with
// Z = c_s + (c_e - c_s) / g + (1 - c_e) / (1 - S):
//   t_s = T c_s / Z,   t_e = T (c_s + (c_e - c_s) / g) / Z,   N-bar / P = C / (T P) = 1 / Z.
// Example (geometric, S = 0.8, 25/50/25): t_s = 0.0998 T, t_e = 0.5012 T, N-bar/P = 0.3991.
#pragma once

#include "schedules/density_schedule.h"

namespace journey {

// g(S): mean keep fraction over a continuous pruning phase.
double mean_pruning_density(ScheduleKind kind, double sparsity);

struct PhaseFractions {
  double start = 0;         // t_s / T
  double end = 0;           // t_e / T
  double mean_density = 1;  // N-bar / P
};

// The closed form above. Requires 0 <= c_s < c_e <= 1 and 0 <= S < 1.
PhaseFractions solve_compute_phases(ScheduleKind kind, double sparsity, double dense_frac,
                                    double prune_end_frac);

}  // namespace journey
