// `journey sweep`: the main job. mpirun -np 1+G*k journey sweep --config S.ini ...
// Rank 0 coordinates (coordinator/sweep_coordinator.h); the other ranks form G worker
// groups of k ranks (coordinator/worker_group.h).
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "app/cli.h"
#include "comm/mpi_session.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "common/log.h"
#include "common/stop_signal.h"
#include "coordinator/messages.h"
#include "coordinator/sweep_coordinator.h"
#include "coordinator/worker_group.h"
#include "data/batch_loader.h"
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

// The worker ranks (all but the coordinator) sharing this rank's node, and this rank's index
// among them (which GPU it takes). Collective over the world.
struct NodeWorkers {
  int count = 1, index = 0;
};
NodeWorkers node_workers(const Communicator& world) {
  MPI_Comm node;
  check_mpi(
      MPI_Comm_split_type(world.handle(), MPI_COMM_TYPE_SHARED, world.rank(), MPI_INFO_NULL, &node),
      "MPI_Comm_split_type");
  int is_worker = world.rank() != 0, workers = 0, before = 0, node_rank = 0;
  MPI_Comm_rank(node, &node_rank);
  MPI_Allreduce(&is_worker, &workers, 1, MPI_INT, MPI_SUM, node);
  MPI_Exscan(&is_worker, &before, 1, MPI_INT, MPI_SUM, node);
  MPI_Comm_free(&node);
  return {std::max(1, workers), node_rank == 0 ? 0 : before};
}

// Rank 0 checks the dataset and the output directory, locks the directory for this sweep
// (`lock`, held until the sweep exits), and tells every rank whether to go on, so bad input
// or a directory in use stops the whole launch with one clear message instead of hanging the
// workers. Returns the tokenizer hash; on bad input rank 0 throws (UsageError or DataError)
// and the others get nothing but the exit code rank 0 will have, so that mpirun, which
// reports the first non-zero code, reports the right one.
std::optional<std::string> preflight(const Communicator& world, const RunConfig& config,
                                     const std::string& out_dir, std::optional<DirectoryLock>* lock,
                                     int* exit_code_if_bad) {
  nlohmann::json verdict;
  std::exception_ptr error;
  if (world.rank() == 0) {
    try {
      require_directory_or_absent(out_dir, "--out");
      refuse_symlinks_under(out_dir, out_dir, "journey sweep");
      choose_device(config.train.device, 0);  // A cuda request this build cannot serve.
      Dataset dataset = open_dataset(config.data);
      check_shards_fit(dataset.train(), dataset.val(), config.model.seq_len,
                       config.train.eval_sequences);
      Ledger::check_identity(out_dir, sweep_identity(config, dataset.tokenizer_hash()));
      std::filesystem::create_directories(out_dir);
      lock->emplace(DirectoryLock::acquire(out_dir, "journey sweep"));
      verdict = {{"ok", true}, {"tokenizer_hash", dataset.tokenizer_hash()}};
    } catch (const UsageError&) {
      error = std::current_exception();
      verdict = {{"ok", false}, {"exit_code", exit_code::kUsage}};
    } catch (const std::exception&) {
      error = std::current_exception();
      verdict = {{"ok", false}, {"exit_code", exit_code::kFailure}};
    }
  }
  verdict = broadcast_json(world.handle(), 0, verdict);
  if (!verdict.at("ok").get<bool>()) {
    if (world.rank() == 0) std::rethrow_exception(error);
    *exit_code_if_bad = verdict.at("exit_code").get<int>();
    return std::nullopt;
  }
  return verdict.at("tokenizer_hash").get<std::string>();
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

int run_sweep(const Args& args) {
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
  RunConfig config = cmd.config;
  if (cmd.flags.count("group-size")) config.sweep.group_size = cmd.flags["group-size"].as<int>();
  validate(config);
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
  const std::string config_path = cmd.flags["config"].as<std::string>();
  const std::string out_dir = cmd.flags.count("out")
                                  ? cmd.flags["out"].as<std::string>()
                                  : "runs/" + std::filesystem::path(config_path).stem().string();

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
    // The same dataset checks a real launch makes first, so a dry run that passes means the
    // sweep can start.
    const Dataset dataset = open_dataset(config.data);
    check_shards_fit(dataset.train(), dataset.val(), config.model.seq_len,
                     config.train.eval_sequences);
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

  int bad_input_code = exit_code::kFailure;
  std::optional<DirectoryLock> lock;
  const std::optional<std::string> tokenizer_hash =
      preflight(world, config, out_dir, &lock, &bad_input_code);
  if (!tokenizer_hash) return bad_input_code;

  const int group_index = layout->group_of(world.rank());
  Communicator group = world.split(world.rank() == 0 ? MPI_UNDEFINED : group_index, world.rank());
  if (world.rank() != 0) {
    const NodeWorkers workers = node_workers(world);
    configure_threads(config.train, workers.count);
    run_worker_group(world, group, workers.index);
    return exit_code::kOk;
  }
  node_workers(world);  // Collective: rank 0 joins the count the workers make.
  SweepOptions options;
  options.out_dir = out_dir;
  options.retry_failed = cmd.flags.count("retry-failed") > 0;
  options.tokenizer_hash = *tokenizer_hash;
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
    MPI_Abort(world.handle(), exit_code::kFailure);
    return exit_code::kFailure;
  }
}

}  // namespace journey
