// `journey schedule`: show a run's plan before anyone spends compute on it.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "app/cli.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "schedules/run_plan.h"
#include "schedules/density_schedule.h"
#include "schedules/grid.h"

namespace po = boost::program_options;

namespace journey {
namespace {

void print_plan(const RunConfig& config, const RunPlan& plan) {
  const DensitySchedule& s = plan.schedule;
  const double T = static_cast<double>(plan.total_steps);
  std::printf("model %s  params: prunable %lld, embedding %lld, total %lld (norms %lld)\n",
              size_name(config.model).c_str(), static_cast<long long>(plan.params.prunable),
              static_cast<long long>(plan.params.embedding),
              static_cast<long long>(plan.params.total()),
              static_cast<long long>(plan.params.norm));
  std::printf(
      "steps T %lld  tokens/step %lld  tokens D %lld\n", static_cast<long long>(plan.total_steps),
      static_cast<long long>(plan.tokens_per_step), static_cast<long long>(plan.total_tokens));
  if (s.events().empty()) {
    std::printf("schedule dense: no pruning\n");
  } else {
    std::printf(
        "schedule %s  sparsity %g  t_s %lld (%.4f T)  t_e %lld (%.4f T)  Delta %lld  K %zu\n",
        schedule_name(s.kind()), s.sparsity(), static_cast<long long>(s.start_step()),
        s.start_step() / T, static_cast<long long>(s.end_step()), s.end_step() / T,
        static_cast<long long>(s.interval()), s.events().size());
    std::printf("events (step: keep):");
    for (const PruneEvent& e : s.events()) {
      std::printf(" %lld:%.4f", static_cast<long long>(e.step), e.keep);
    }
    std::printf("\n");
  }
  std::printf("N-bar %.0f (N-bar/P %.4f)  N_final %lld  C %.4g FLOP\n", plan.mean_active,
              plan.mean_active / plan.params.prunable, static_cast<long long>(plan.final_active),
              plan.compute);
  std::printf("compute fractions achieved: dense %.4f  pruning %.4f  recovery %.4f\n",
              plan.dense_compute_frac, plan.pruning_compute_frac, plan.recovery_compute_frac);
  for (const std::string& warning : plan.warnings) std::printf("warning: %s\n", warning.c_str());
}

}  // namespace

int command_schedule(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("steps", po::value<int64_t>(), "override the number of steps T")(
      "csv", po::value<std::string>(), "write step,keep,active per step to this CSV file");
  ParsedCommand cmd = parse_command(args, flags, true);
  if (cmd.help) {
    print_help("journey schedule --config FILE [--steps T] [--csv FILE]",
               "Prints the pruning schedule of a run: t_s, t_e, Delta, K, the keep fraction "
               "after each event, N-bar/P and the compute fractions achieved.",
               flags);
    return exit_code::kOk;
  }
  RunConfig config = cmd.config;
  if (cmd.flags.count("steps")) {
    const int64_t steps = cmd.flags["steps"].as<int64_t>();
    if (steps < 1 || steps > 1000000000) {
      throw UsageError("--steps " + std::to_string(steps) + ": must be in [1, 1e9]");
    }
    config.train.tokens = steps * config.train.batch_tokens;
  }
  RunPlan plan = make_plan(config);
  print_plan(config, plan);
  if (cmd.flags.count("csv")) {
    const std::string path = cmd.flags["csv"].as<std::string>();
    std::ofstream out(path);
    if (!out) throw DataError("cannot write " + path);
    out << "step,keep,active\n";
    for (int64_t t = 0; t < plan.total_steps; ++t) {
      out << t << "," << plan.schedule.keep_at(t) << "," << plan.active[t] << "\n";
    }
  }
  return exit_code::kOk;
}

}  // namespace journey
