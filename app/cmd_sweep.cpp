// `journey sweep`: the main job. mpirun -np 1+G*k journey sweep --config S.ini ...
// Rank 0 coordinates (coordinator/sweep_coordinator.h); the other ranks form G worker
// groups of k ranks (coordinator/worker_group.h).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "app/cli.h"
#include "comm/mpi_collectives.h"
#include "comm/mpi_session.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "common/leader_check.h"
#include "common/log.h"
#include "common/stop_signal.h"
#include "coordinator/sweep_coordinator.h"
#include "coordinator/worker_group.h"
#include "data/dataset.h"
#include "io/directory_lock.h"
#include "io/symlink_check.h"
#include "schedules/grid.h"
#include "sweep/dry_run.h"
#include "sweep/ledger.h"
#include "sweep/sweep_layout.h"
#include "worker/device.h"
#include "worker/matmul_peak.h"
#include "worker/threads.h"

namespace po = boost::program_options;

namespace journey {
namespace {

// How long a sweep inside a Slurm job waits for its directory's lock (DirectoryLock::
// acquire_waiting): an NFSv4 lease is about 90 s; Lustre evicts a dead client within minutes.
constexpr double kSlurmLockWaitS = 300;

// Rank 0's checks before the launch commits to work: the dataset and the output directory,
// which it locks for this sweep (`lock`, held until the sweep exits). Returns the sweep's
// identity (the coordinator's; empty on the other ranks) or, when rank 0's check failed, the
// exit code the launch ends with (common/leader_check.h).
struct Preflight {
  int code = exit_code::kOk;
  std::string identity;
};
Preflight preflight(const Communicator& world, const RunConfig& config,
                    const std::vector<Cell>& cells, const std::string& out_dir,
                    std::optional<DirectoryLock>* lock) {
  Preflight result;
  const std::unique_ptr<Collectives> ranks = make_mpi_collectives(world);
  result.code = agree_on_leader_check(*ranks, [&] {
    require_directory_or_absent(out_dir, "--out");
    refuse_symlinks_under(out_dir, out_dir, "journey sweep");
    choose_device(config.train.device, 0);  // A cuda request this build cannot serve.
    Dataset dataset = open_run_dataset(config);
    result.identity = sweep_identity(config, dataset.tokenizer_hash(), dataset.fingerprint());
    Ledger::check_identity(out_dir, result.identity, cells);
    std::filesystem::create_directories(out_dir);
    // A Slurm job requeued (after a node crash, say) may find the dead node's lock still held
    // by a network filesystem for a while: it waits rather than ending the job (exit 2, no
    // requeue). Slurm sets SLURM_RESTART_COUNT in requeued batch jobs only.
    lock->emplace(std::getenv("SLURM_RESTART_COUNT") != nullptr
                      ? DirectoryLock::acquire_waiting(out_dir, "journey sweep", kSlurmLockWaitS)
                      : DirectoryLock::acquire(out_dir, "journey sweep"));
  });
  return result;
}

// The dry run's throughput: --peak-flops and --mfu when given; otherwise this machine's
// measured CPU matmul for a CPU sweep, and nothing (the dry run says how to give it) for a
// GPU sweep, which a login node without its GPUs cannot measure.
DryRunThroughput dry_run_throughput(const RunConfig& config, const po::variables_map& flags) {
  DryRunThroughput t;
  t.gpu =
      config.train.device == DeviceKind::kCuda ||
      (config.train.device == DeviceKind::kAuto && choose_device(DeviceKind::kAuto, 0).is_cuda());
  if (flags.count("mfu")) {
    t.efficiency = flags["mfu"].as<double>();
    if (!(t.efficiency > 0 && t.efficiency <= 1)) {
      throw UsageError("--mfu must lie in (0, 1]: the fraction of the peak training achieves");
    }
  }
  if (flags.count("peak-flops")) {
    t.peak_flops = flags["peak-flops"].as<double>();
    if (!(t.peak_flops > 0) || !std::isfinite(t.peak_flops)) {
      throw UsageError("--peak-flops must be a positive number of FLOP/s");
    }
    t.source = "--peak-flops";
  } else if (!t.gpu) {
    t.peak_flops = matmul_peak_flops();
    t.source = "measured float32 matmul on this machine's CPU";
  }
  return t;
}

}  // namespace

int command_sweep(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("out", po::value<std::string>(),
                      "sweep directory (default runs/<config name>)")(
      "group-size", po::value<int>(), "ranks per worker group (overrides sweep.group_size)")(
      "retry-failed", "run failed cells again, from their newest valid checkpoints")(
      "dry-run", "print the cells, their schedules, N-bar, D, FLOPs and an estimated wall time")(
      "ranks", po::value<int>(), "for --dry-run without mpirun: the ranks to plan for")(
      "peak-flops", po::value<double>(),
      "for --dry-run: one rank's peak matmul FLOP/s (one GPU's at train.precision for a cuda "
      "sweep; default on the CPU: measured here)")(
      "mfu", po::value<double>(),
      "for --dry-run: the fraction of --peak-flops training achieves (default 0.3)");
  ParsedCommand cmd = parse_command(args, flags, true);
  if (cmd.help) {
    print_help(
        "mpirun -np 1+G*k journey sweep --config FILE [--group-size k] [--out DIR] "
        "[--retry-failed] [--dry-run]",
        "Runs the grid of [sweep] (sizes x sparsities x schedules x phases x durations x "
        "seeds). Rank 0 coordinates; the other ranks form G groups of k ranks, each "
        "training one cell at a time, FSDP-sharded. Results, ledger, per-cell metrics, "
        "checkpoints and logs go to DIR; the fit and report run at the end. Running the "
        "same command on the same DIR resumes. Exit 0: all cells done; 1: some failed; "
        "75: preempted (run again to resume).",
        flags);
    return exit_code::kOk;
  }
  RunConfig config = sweep_config(cmd);
  const int k = static_cast<int>(config.sweep.group_size);
  const std::vector<Cell> cells = expand_grid(config);
  // Every rank of a group trains at least one sequence a step: refused here, before any cell
  // starts, rather than by each cell's trainer (the dry run checks it too).
  for (const Cell& cell : cells) {
    const int64_t sequences = cell.config.train.batch_tokens / cell.config.model.seq_len;
    if (sequences < k) {
      throw UsageError("cell " + cell.id + " has " + std::to_string(sequences) +
                       " sequences per step (train.batch_tokens " +
                       std::to_string(cell.config.train.batch_tokens) +
                       ", or its size's entry in sweep.batch_tokens), fewer than the " +
                       std::to_string(k) +
                       " ranks of a group: raise the batch or use a "
                       "smaller --group-size");
    }
  }
  const std::string out_dir = sweep_out_dir(cmd);

  install_stop_signal_handlers();
  MpiSession mpi(nullptr, nullptr);
  Communicator world = Communicator::world();
  log::set_rank(world.rank());

  if (cmd.flags.count("dry-run")) {
    if (world.rank() != 0) return exit_code::kOk;
    const int ranks =
        cmd.flags.count("ranks") ? cmd.flags["ranks"].as<int>() : std::max(world.size(), 1 + k);
    const std::optional<SweepLayout> layout = SweepLayout::of(ranks, k);
    if (!layout) {
      throw UsageError("--ranks " + std::to_string(ranks) +
                       " cannot hold a coordinator and groups of " + std::to_string(k) +
                       " ranks: it must be 1 + a positive multiple of " + std::to_string(k));
    }
    configure_threads(config.train, ranks - 1);
    // The same dataset and output-directory checks a real launch makes first, so a dry run
    // that passes means the sweep can start.
    const Dataset dataset = open_run_dataset(config);
    require_directory_or_absent(out_dir, "--out");
    Ledger::check_identity(
        out_dir, sweep_identity(config, dataset.tokenizer_hash(), dataset.fingerprint()), cells);
    print_dry_run(cells, layout->num_groups(), k, dry_run_throughput(config, cmd.flags),
                  dataset.train_tokens());
    return exit_code::kOk;
  }
  const std::optional<SweepLayout> layout = SweepLayout::of(world.size(), k);
  if (!layout) {
    throw UsageError("journey sweep runs on 1 + G*k ranks (a coordinator and G groups of k = " +
                     std::to_string(k) + "), but this launch has " + std::to_string(world.size()) +
                     " rank(s): use mpirun -np " + std::to_string(1 + k) + " (or " +
                     std::to_string(1 + 2 * k) + ", ...), or change --group-size");
  }

  std::optional<DirectoryLock> lock;
  const Preflight checked = preflight(world, config, cells, out_dir, &lock);
  if (checked.code != exit_code::kOk) return checked.code;

  const bool coordinator = world.rank() == 0;
  Communicator group =
      world.split(coordinator ? std::nullopt : std::optional<int>(layout->group_of(world.rank())),
                  world.rank());
  const NodeMembers workers = node_members(world, !coordinator);  // Collective: rank 0 too.
  if (!coordinator) {
    configure_threads(config.train, workers.count);
    run_worker_group(world, group, workers.index);
    return exit_code::kOk;
  }
  SweepOptions options;
  options.out_dir = out_dir;
  options.retry_failed = cmd.flags.count("retry-failed") > 0;
  options.identity = checked.identity;
  print_plan_warnings(cells);
  std::printf("sweep: %zu cells on %d group(s) of %d rank(s); output in %s\n", cells.size(),
              layout->num_groups(), k, out_dir.c_str());
  std::fflush(stdout);
  try {
    return run_sweep_coordinator(world, *layout, config, cells, options);
  } catch (const std::exception& e) {
    // The workers wait for messages from this rank and would wait forever: end the whole
    // launch. Every finished cell is in the ledger and every running one has checkpoints,
    // so the same command resumes.
    std::fprintf(stderr, "journey sweep: error: %s\n", e.what());
    std::fflush(stderr);
    world.abort(exit_code::kFailure);
  }
}

}  // namespace journey
