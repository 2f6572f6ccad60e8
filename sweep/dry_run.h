// `journey sweep --dry-run`: what a sweep will do before it spends any compute. For each
// cell: its schedule (t_s, t_e, K), steps, peak lr, tokens per step, N-bar, N_final, D, C,
// the work actually executed and how many times it reads the training data (epochs); then
// the compute of the whole sweep in FLOP and, from a throughput (DryRunThroughput), its
// estimated wall time (a longest-first schedule over the groups, as the coordinator hands
// out cells) and, when the cells train on GPUs, its GPU-hours; and a warning for every cell
// that repeats its data. Torch-free: the caller measures or is told the throughput.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "schedules/grid.h"

namespace journey {

// The efficiency (achieved / peak matmul FLOP/s, the MFU) the estimate assumes unless told
// (--mfu); BENCHMARKS.md shows what the trainer achieves on the demo sizes.
constexpr double kAssumedEfficiency = 0.3;

// How fast one rank trains: peak_flops (matmul FLOP/s of one rank: measured on this
// machine's CPU, or stated with --peak-flops) times efficiency. peak_flops 0: unknown (a GPU
// sweep without --peak-flops), and the dry run prints the compute and how to give it.
struct DryRunThroughput {
  bool gpu = false;  // The cells train on GPUs (train.device cuda): one GPU per rank.
  double peak_flops = 0;
  double efficiency = kAssumedEfficiency;
  std::string source;  // Where peak_flops came from, e.g. "measured on this machine's CPU".
};

// The summary lines (no newlines) after the table, for cells that execute `executed_flops`
// each (RunPlan::executed_flops) and whose paper compute C = 6 N-bar D sums to
// `paper_compute`, on `num_groups` groups of `group_size` ranks.
std::vector<std::string> dry_run_estimate(const std::vector<double>& executed_flops,
                                          double paper_compute, int num_groups, int group_size,
                                          const DryRunThroughput& throughput);

// `train_tokens`: tokens in the dataset's training split.
void print_dry_run(const std::vector<Cell>& cells, int num_groups, int group_size,
                   const DryRunThroughput& throughput, int64_t train_tokens);

// One line per warning of each cell's plan (Cell::warnings), for the dry run and the start of
// a sweep; and one for the sweep when its cells would not checkpoint periodically
// (train.checkpoint_every = 0).
void print_plan_warnings(const std::vector<Cell>& cells);

// "3 h 20 min", "12 min 5 s", "40 s", "2 d 3 h": a duration in seconds for people.
std::string human_duration(double seconds);

}  // namespace journey
