#include "sweep/dry_run.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <queue>
#include <string>

#include "schedules/run_plan.h"

namespace journey {

void print_dry_run(const std::vector<Cell>& cells, int num_groups, int group_size,
                   double matmul_flops_per_rank, int64_t train_tokens) {
  std::printf("%-46s %7s %7s %7s %4s %8s %7s %11s %11s %10s %10s %10s %6s\n", "cell", "steps",
              "t_s", "t_e", "K", "lr", "batch", "N-bar", "N_final", "D", "C", "executed", "epochs");
  std::vector<double> seconds;
  std::vector<std::string> repeats;
  const double group_rate = matmul_flops_per_rank * group_size * kAssumedEfficiency;
  for (const Cell& cell : cells) {
    const RunPlan plan = make_plan(cell.config);
    const DensitySchedule& s = plan.schedule;
    const double epochs =
        train_tokens > 0 ? static_cast<double>(plan.total_tokens) / train_tokens : 0.0;
    std::printf(
        "%-46s %7lld %7lld %7lld %4zu %8.3g %7lld %11.0f %11lld %10.3g %10.3g %10.3g %6.2f\n",
        cell.id.c_str(), static_cast<long long>(plan.total_steps),
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
    seconds.push_back(plan.executed_flops / group_rate);
  }
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
  std::printf(
      "\n%zu cells on %d group(s) of %d rank(s): estimated %.0f s of group time, "
      "%.0f s wall (matmul %.1f GFLOP/s per rank at an assumed %.0f%% efficiency)\n",
      cells.size(), num_groups, group_size, total, makespan, matmul_flops_per_rank / 1e9,
      100 * kAssumedEfficiency);
  print_plan_warnings(cells);
  for (const std::string& repeat : repeats) std::printf("warning: %s\n", repeat.c_str());
  std::fflush(stdout);
}

void print_plan_warnings(const std::vector<Cell>& cells) {
  for (const Cell& cell : cells) {
    for (const std::string& warning : cell.warnings) {
      std::printf("warning: %s: %s\n", cell.id.c_str(), warning.c_str());
    }
  }
  std::fflush(stdout);
}

}  // namespace journey
