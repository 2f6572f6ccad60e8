// `journey sweep --dry-run`: what a sweep will do before it spends any compute. For each
// cell: its schedule (t_s, t_e, K), steps, peak lr, tokens per step, N-bar, N_final, D, C,
// the work actually executed and how many times it reads the training data (epochs); then
// the estimated wall time on the given ranks, from this machine's measured matmul
// throughput at an assumed efficiency and a longest-first schedule over the groups, and a
// warning for every cell that repeats its data.
#pragma once

#include <cstdint>
#include <vector>

#include "schedules/grid.h"

namespace journey {

// `matmul_flops_per_rank`: measured float32 matmul FLOP/s of one rank with its threads;
// `train_tokens`: tokens in the dataset's training split.
void print_dry_run(const std::vector<Cell>& cells, int num_groups, int group_size,
                   double matmul_flops_per_rank, int64_t train_tokens);

// One line per warning of each cell's plan (Cell::warnings), for the dry run and the start of
// a sweep.
void print_plan_warnings(const std::vector<Cell>& cells);

// The efficiency (achieved / peak matmul FLOP/s) the estimate assumes; BENCHMARKS.md shows
// what the trainer achieves on the demo sizes.
constexpr double kAssumedEfficiency = 0.3;

}  // namespace journey
