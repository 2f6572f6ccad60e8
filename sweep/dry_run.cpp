#include "sweep/dry_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <queue>
#include <string>

#include "schedules/run_plan.h"

namespace journey {

std::string human_duration(double seconds) {
  const long long s = std::llround(seconds);
  char text[64];
  if (s < 60) {
    std::snprintf(text, sizeof text, "%lld s", s);
  } else if (s < 3600) {
    std::snprintf(text, sizeof text, "%lld min %lld s", s / 60, s % 60);
  } else if (s < 86400) {
    std::snprintf(text, sizeof text, "%lld h %lld min", s / 3600, (s % 3600) / 60);
  } else {
    std::snprintf(text, sizeof text, "%lld d %lld h", s / 86400, (s % 86400) / 3600);
  }
  return text;
}

std::vector<std::string> dry_run_estimate(const std::vector<double>& executed_flops,
                                          double paper_compute, int num_groups, int group_size,
                                          const DryRunThroughput& throughput) {
  std::vector<std::string> lines;
  double executed = 0;
  for (double f : executed_flops) executed += f;
  char text[640];
  std::snprintf(text, sizeof text,
                "%zu cells on %d group(s) of %d %s: %.3g FLOP executed in all (the paper's "
                "C = 6 N-bar D: %.3g FLOP)",
                executed_flops.size(), num_groups, group_size,
                throughput.gpu ? "rank(s), one GPU each" : "rank(s)", executed, paper_compute);
  lines.push_back(text);
  if (!(throughput.peak_flops > 0)) {
    lines.push_back(
        std::string(throughput.gpu ? "no time estimate: train.device is cuda and no GPU "
                                     "throughput was given; pass "
                                   : "no time estimate: no throughput was given; pass ") +
        "--peak-flops F (one GPU's peak dense matmul FLOP/s at train.precision, e.g. 9.89e14 "
        "for an H100 SXM in bf16) and --mfu M (the fraction of it training achieves, default " +
        std::to_string(static_cast<int>(100 * kAssumedEfficiency)) +
        "%; `journey train` reports its MFU) to estimate the wall time and GPU-hours");
    return lines;
  }
  const double group_rate = throughput.peak_flops * group_size * throughput.efficiency;
  std::vector<double> seconds;
  for (double f : executed_flops) seconds.push_back(f / group_rate);
  // Longest first onto the group that frees up first, as the coordinator does.
  std::sort(seconds.begin(), seconds.end(), std::greater<>());
  std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
  for (int g = 0; g < num_groups; ++g) free_at.push(0.0);
  double total = 0, makespan = 0;
  for (double s : seconds) {
    const double start = free_at.top();
    free_at.pop();
    free_at.push(start + s);
    makespan = std::max(makespan, start + s);
    total += s;
  }
  std::snprintf(text, sizeof text,
                "estimated wall time %s (%.0f s; %.0f s of group time), at %.3g FLOP/s peak per "
                "rank (%s) x %.0f%% MFU",
                human_duration(makespan).c_str(), makespan, total, throughput.peak_flops,
                throughput.source.c_str(), 100 * throughput.efficiency);
  lines.push_back(text);
  if (throughput.gpu) {
    std::snprintf(text, sizeof text,
                  "estimated GPU-hours %.3g (%d GPU(s) per group x %.3g h of group time; the "
                  "allocation holds %d GPU(s) for %.3g h: %.3g GPU-hours)",
                  total * group_size / 3600, group_size, total / 3600, num_groups * group_size,
                  makespan / 3600, makespan * num_groups * group_size / 3600);
    lines.push_back(text);
  }
  return lines;
}

void print_dry_run(const std::vector<Cell>& cells, int num_groups, int group_size,
                   const DryRunThroughput& throughput, int64_t train_tokens) {
  int id_width = 46;  // Wider for long ids (an lr axis adds "-lr<rate>").
  for (const Cell& cell : cells) id_width = std::max(id_width, static_cast<int>(cell.id.size()));
  std::printf("%-*s %7s %7s %7s %4s %8s %7s %11s %11s %10s %10s %10s %6s\n", id_width, "cell",
              "steps", "t_s", "t_e", "K", "lr", "batch", "N-bar", "N_final", "D", "C", "executed",
              "epochs");
  std::vector<double> executed;
  double paper_compute = 0;
  std::vector<std::string> repeats;
  for (const Cell& cell : cells) {
    const RunPlan plan = make_plan(cell.config);
    const DensitySchedule& s = plan.schedule;
    const double epochs =
        train_tokens > 0 ? static_cast<double>(plan.total_tokens) / train_tokens : 0.0;
    std::printf(
        "%-*s %7lld %7lld %7lld %4zu %8.3g %7lld %11.0f %11lld %10.3g %10.3g %10.3g %6.2f\n",
        id_width, cell.id.c_str(), static_cast<long long>(plan.total_steps),
        static_cast<long long>(s.events().empty() ? 0 : s.start_step()),
        static_cast<long long>(s.events().empty() ? 0 : s.end_step()), s.events().size(),
        cell.config.train.lr, static_cast<long long>(plan.tokens_per_step), plan.mean_active,
        static_cast<long long>(plan.final_active), static_cast<double>(plan.total_tokens),
        plan.compute, plan.executed_flops, epochs);
    if (epochs > 1.0) {
      char text[160];
      std::snprintf(text, sizeof text,
                    "reads the training data %.2f times (%lld tokens of %lld): repeated data",
                    epochs, static_cast<long long>(plan.total_tokens),
                    static_cast<long long>(train_tokens));
      repeats.push_back(cell.id + ": " + text);
    }
    executed.push_back(plan.executed_flops);
    paper_compute += plan.compute;
  }
  std::printf("\n");
  for (const std::string& line :
       dry_run_estimate(executed, paper_compute, num_groups, group_size, throughput)) {
    std::printf("%s\n", line.c_str());
  }
  print_plan_warnings(cells);
  for (const std::string& repeat : repeats) std::printf("warning: %s\n", repeat.c_str());
  std::fflush(stdout);
}

void print_plan_warnings(const std::vector<Cell>& cells) {
  bool no_checkpoints = false;
  for (const Cell& cell : cells) {
    for (const std::string& warning : cell.warnings) {
      std::printf("warning: %s: %s\n", cell.id.c_str(), warning.c_str());
    }
    no_checkpoints = no_checkpoints || cell.config.train.checkpoint_every == 0;
  }
  if (no_checkpoints) {
    std::printf(
        "warning: train.checkpoint_every = 0: cells checkpoint only when stopped by a signal "
        "and at their end, so a crash or a lost node loses each running cell's progress; set "
        "it (the configs in configs/ checkpoint every 100 to 500 steps)\n");
  }
  std::fflush(stdout);
}

}  // namespace journey
