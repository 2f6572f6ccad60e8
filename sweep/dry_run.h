// `journey sweep --dry-run`: what a sweep will do before it spends any compute. For each
// cell: its schedule (t_s, t_e, K), steps, N-bar, N_final, D, C and the work actually
// executed; then the estimated wall time on the given ranks, from this machine's measured
// matmul throughput at an assumed efficiency and a longest-first schedule over the groups.
#pragma once

#include <vector>

#include "schedules/grid.h"

namespace journey {

// `matmul_flops_per_rank`: measured float32 matmul FLOP/s of one rank with its threads.
void print_dry_run(const std::vector<Cell>& cells, int num_groups, int group_size,
                   double matmul_flops_per_rank);

// One line per warning of each cell's plan (Cell::warnings), for the dry run and the start of
// a sweep.
void print_plan_warnings(const std::vector<Cell>& cells);

// The efficiency (achieved / peak matmul FLOP/s) the estimate assumes; BENCHMARKS.md shows
// what the trainer achieves on the demo sizes.
constexpr double kAssumedEfficiency = 0.3;

}  // namespace journey
