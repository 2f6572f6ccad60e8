// `journey train`: one cell on one group of ranks (mpirun -np k journey train ...).
#include <cstdio>
#include <filesystem>
#include <optional>

#include "app/cli.h"
#include "comm/mpi_session.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "common/leader_check.h"
#include "common/log.h"
#include "common/stop_signal.h"
#include "data/dataset.h"
#include "io/directory_lock.h"
#include "io/symlink_check.h"
#include "schedules/grid.h"
#include "worker/device.h"
#include "worker/threads.h"
#include "worker/trainer.h"

namespace po = boost::program_options;

namespace journey {

int command_train(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("out", po::value<std::string>()->default_value("runs/train"),
                      "output directory (metrics, summary, checkpoints)")(
      "fresh", "ignore checkpoints in --out and start from step 0");
  ParsedCommand cmd = parse_command(args, flags, true);
  if (cmd.help) {
    print_help("[mpirun -np k] journey train --config FILE [--out DIR] [--fresh]",
               "Trains one cell: the model, schedule and data of the config, sharded FSDP-style "
               "over the ranks of the launch. Resumes from the newest valid checkpoint in "
               "DIR/checkpoints unless --fresh. SIGTERM or SIGUSR2 checkpoint and exit 75.",
               flags);
    return exit_code::kOk;
  }
  const RunConfig& config = cmd.config;
  if (config.sweep.sizes.size() || config.sweep.sparsities.size()) {
    log::warn("journey train ignores [sweep]; use journey sweep for grids");
  }
  install_stop_signal_handlers();
  MpiSession mpi(nullptr, nullptr);
  Communicator world = Communicator::world();
  log::set_rank(world.size() > 1 ? world.rank() : -1);
  configure_threads(config.train, world.ranks_on_node());
  const at::Device device = choose_device(config.train.device, world.rank_on_node());
  std::unique_ptr<Collectives> group = make_device_collectives(
      world, device, config.train.collectives, config.train.collective_timeout_s);

  Dataset dataset = open_run_dataset(config);
  TrainerOptions options;
  options.out_dir = cmd.flags["out"].as<std::string>();
  require_directory_or_absent(options.out_dir, "--out");
  refuse_symlinks_under(options.out_dir, options.out_dir, "journey train");
  options.cell_id = size_name(config.model);
  options.resume = cmd.flags.count("fresh") == 0;
  options.stop_requested = stop_requested;
  options.device = device;
  // Rank 0 locks the directory for this run; every rank learns whether it could, and exits
  // with rank 0's code if not (a directory in use is exit 2).
  std::optional<DirectoryLock> lock;
  const int refused_with = agree_on_leader_check(*group, [&] {
    DirectoryLock::refuse_if_an_ancestor_is_locked(options.out_dir, "journey train");
    std::filesystem::create_directories(options.out_dir);
    lock.emplace(DirectoryLock::acquire(options.out_dir, "journey train"));
  });
  if (refused_with != exit_code::kOk) return refused_with;
  Trainer trainer(config, dataset, *group, options);
  const RunSummary result = trainer.run();
  if (world.rank() == 0) {
    std::printf(
        "%s: %s after %lld of %lld steps; eval loss %.4f; N-bar %.0f, N_final %lld; "
        "%.0f tok/s\n",
        options.cell_id.c_str(), status_name(result.status),
        static_cast<long long>(result.steps_done), static_cast<long long>(result.total_steps),
        result.final_eval_loss, result.n_avg, static_cast<long long>(result.n_final),
        result.tokens_per_s);
    if (!result.reason.empty()) std::printf("  %s\n", result.reason.c_str());
  }
  switch (result.status) {
    case RunStatus::kDone:
      return exit_code::kOk;
    case RunStatus::kPreempted:
      return exit_code::kPreempted;
    case RunStatus::kDiverged:
    case RunStatus::kFailed:
      break;
  }
  return exit_code::kFailure;
}

}  // namespace journey
