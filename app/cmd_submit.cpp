// `journey submit`: its flags; the checks and the job are slurm/submit.h's.
#include <boost/program_options.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "app/cli.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "schedules/grid.h"
#include "slurm/submit.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace journey {
namespace {

constexpr char kUsage[] =
    "journey submit --config FILE --ranks-per-node R --time T [--nodes N] [--group-size k] "
    "[--partition P] [--out DIR] [--dry-run] [--section.key=value ...]";

}  // namespace

int command_submit(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("nodes", po::value<int>()->default_value(1), "nodes (-N)")(
      "ranks-per-node", po::value<int>(),
      "MPI ranks per node (CPU jobs); nodes x ranks must be 1 + G*k (coordinator + G groups "
      "of k)")("gpus-per-node", po::value<int>(),
               "GPUs per node (GPU jobs): one rank per GPU plus the coordinator on the first "
               "node; groups of k must divide nodes x GPUs")(
      "sbatch-arg", po::value<std::vector<std::string>>()->composing(),
      "another sbatch option, passed as it is, e.g. --sbatch-arg=--qos=high (repeatable)")(
      "refit", "submit even when every cell has ended (the job then only refits)")(
      "retry-failed",
      "run failed cells again, from their newest valid checkpoints (they are marked pending "
      "in the ledger before the job is submitted)")(
      "group-size", po::value<int>(), "ranks per worker group (overrides sweep.group_size)")(
      "time", po::value<std::string>(), "time limit of each attempt, e.g. 2:00:00 or 1-12")(
      "partition", po::value<std::string>(), "Slurm partition (default: the cluster's)")(
      "account", po::value<std::string>(), "Slurm account to charge")(
      "threads-per-rank", po::value<int>(),
      "CPUs per rank (--cpus-per-task, train.threads); default train.threads, else the "
      "node's CPUs / ranks per node")(
      "warn-before", po::value<int>()->default_value(300),
      "seconds before the time limit at which Slurm sends SIGUSR2 (checkpoint and requeue)")(
      "max-requeues", po::value<int>()->default_value(20),
      "requeues after which a preempted job stops instead")(
      "out", po::value<std::string>(), "sweep directory (default runs/<config name>)")(
      "job-name", po::value<std::string>(), "Slurm job name (default journey-<directory name>)")(
      "template", po::value<std::string>(),
      "job script template to render instead of the built-in slurm/sweep.sbatch.in")(
      "dry-run", "check everything and print the job script; submit nothing");
  ParsedCommand cmd = parse_command(args, flags, true);
  if (cmd.help) {
    print_help(kUsage,
               "Submits the sweep of --config as a Slurm batch job: srun --mpi=pmix starts "
               "nodes x ranks-per-node ranks of `journey sweep`. Slurm sends SIGUSR2 "
               "--warn-before seconds before the time limit; the sweep checkpoints, exits 75 "
               "and the job requeues itself (up to --max-requeues times) until every cell has "
               "ended. Logs go to DIR/logs/job-<id>.out and DIR/cells/<cell>/train.log; "
               "`journey status DIR` shows progress. Options are checked before sbatch runs "
               "(exit 2 on any problem). Exit 0: submitted (or printed, with --dry-run).",
               flags);
    return exit_code::kOk;
  }
  const po::variables_map& f = cmd.flags;
  RunConfig config = sweep_config(cmd);
  const std::vector<Cell> cells = expand_grid(config);
  if (f.count("ranks-per-node") && f.count("gpus-per-node")) {
    throw UsageError(
        "--ranks-per-node and --gpus-per-node exclude each other: a GPU job has one rank per "
        "GPU plus the coordinator");
  }
  if (!f.count("ranks-per-node") && !f.count("gpus-per-node")) {
    throw UsageError(
        "missing --ranks-per-node R (MPI ranks per node; nodes x R must be 1 + G*k), or "
        "--gpus-per-node N for a GPU job");
  }
  if (!f.count("time")) throw UsageError("missing --time T (the job's time limit, e.g. 2:00:00)");

  const std::string out_dir = fs::absolute(sweep_out_dir(cmd)).lexically_normal().string();
  require_directory_or_absent(out_dir, "--out");

  SubmitOptions options;
  options.nodes = f["nodes"].as<int>();
  if (f.count("ranks-per-node")) options.ranks_per_node = f["ranks-per-node"].as<int>();
  if (f.count("gpus-per-node")) options.gpus_per_node = f["gpus-per-node"].as<int>();
  if (f.count("threads-per-rank")) options.threads_per_rank = f["threads-per-rank"].as<int>();
  options.time = f["time"].as<std::string>();
  options.warn_before_s = f["warn-before"].as<int>();
  options.max_requeues = f["max-requeues"].as<int>();
  if (f.count("partition")) options.partition = f["partition"].as<std::string>();
  if (f.count("account")) options.account = f["account"].as<std::string>();
  options.out_dir = out_dir;
  if (f.count("job-name")) options.job_name = f["job-name"].as<std::string>();
  if (f.count("template")) options.template_path = f["template"].as<std::string>();
  if (f.count("sbatch-arg")) {
    options.extra_sbatch_options = f["sbatch-arg"].as<std::vector<std::string>>();
  }
  options.refit = f.count("refit") > 0;
  options.retry_failed = f.count("retry-failed") > 0;
  options.dry_run = f.count("dry-run") > 0;
  submit_sweep(config, cells, options);
  return exit_code::kOk;
}

}  // namespace journey
