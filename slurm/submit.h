// `journey submit`: a sweep as a self-requeueing Slurm batch job (slurm/sweep.sbatch.in).
//
// submit_sweep() checks everything that can be wrong before sbatch runs, in this order: the
// layout (1 + G*k ranks, slurm/job_script.h), the threads per rank, the job request (time
// limit against the warning signal, names and paths), the dataset (it must exist where the
// ranks will read it: a missing or foreign one is a bad data.dir), the sweep directory's
// identity (sweep/ledger.h) and the job template. Then, unless it submits nothing, it checks
// that sbatch is on PATH, that no job submitted for the directory is still pending or running
// (a second one would run the same cells twice at once) and that the partition has the
// nodes. Nothing is written before all of that passes.
//
// It submits nothing, printing one line to stdout and returning, when every cell of the
// grid has ended in the directory's ledger (done, failed or diverged) and `refit` is unset;
// and, with `dry_run`, prints the job script to stdout and the sbatch command it would run
// to stderr. Otherwise it writes DIR/job.ini (the effective config with data.dir made
// absolute and the job's train.threads, so the job never depends on the file it was
// submitted from), DIR/job.sbatch and DIR/logs/, runs sbatch, appends the job id to
// DIR/slurm-jobs.txt (slurm/submitted_jobs.h) and prints where the logs and results go.
// SBATCH_* environment variables are described on stderr in both cases.
//
// Errors: UsageError (exit 2) with a sentence naming the option, key or file for every
// problem found before sbatch runs; std::runtime_error when sbatch refuses the job; DataError
// when the directory's files cannot be read or written.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "schedules/grid.h"

namespace journey {

// The request as the command line gives it; unset optionals take the defaults described.
struct SubmitOptions {
  int nodes = 1;
  std::optional<int> ranks_per_node;  // Exactly one of these two is set.
  std::optional<int> gpus_per_node;
  // Default train.threads, else the partition's CPUs per node shared by the node's ranks
  // (sinfo), else 1.
  std::optional<int> threads_per_rank;
  std::string time;  // Slurm's --time.
  int warn_before_s = 300;
  int max_requeues = 20;
  std::string partition, account;            // Empty: the cluster's default.
  std::string out_dir;                       // The sweep directory, relative or absolute.
  std::optional<std::string> job_name;       // Default journey-<directory name>.
  std::optional<std::string> template_path;  // Default the built-in slurm/sweep.sbatch.in.
  std::vector<std::string> extra_sbatch_options;
  bool refit = false;         // Submit even when every cell has ended.
  bool retry_failed = false;  // Mark the grid's failed cells pending first (not diverged ones).
  bool dry_run = false;       // Check everything and print the job script; submit nothing.
};

// `config` is validated, with the group size the job uses (sweep.group_size); `cells` is its
// grid (schedules/grid.h: expand_grid(config)).
void submit_sweep(const RunConfig& config, const std::vector<Cell>& cells,
                  const SubmitOptions& options);

}  // namespace journey
