#include "slurm/submit.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "common/error.h"
#include "common/executables.h"
#include "data/dataset.h"
#include "io/atomic_file.h"
#include "io/directory_lock.h"
#include "schedules/grid.h"
#include "slurm/job_script.h"
#include "slurm/slurm_client.h"
#include "slurm/submitted_jobs.h"
#include "sweep/ledger.h"

extern char** environ;

namespace fs = std::filesystem;

namespace journey {
namespace {

std::string read_text_file(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) throw UsageError("cannot read " + what + " " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The dataset must exist where the ranks will read it; a missing or foreign one is a bad
// config value here (the job would otherwise fail only after waiting in the queue).
// Returns the sweep's identity (sweep_identity) with that dataset.
std::string check_dataset(const RunConfig& config) {
  try {
    const Dataset dataset = open_run_dataset(config);
    return sweep_identity(config, dataset.tokenizer_hash(), dataset.fingerprint());
  } catch (const DataError& e) {
    throw UsageError("config key data.dir = " + config.data.dir + " is not a usable dataset (" +
                     e.what() +
                     "); prepare it with `journey prepare` on a filesystem the compute nodes see");
  }
}

// Threads per rank: the flag, else train.threads, else the partition's cores per node
// shared by the ranks on a node, else 1.
int choose_threads(const std::optional<int>& flag, const RunConfig& config,
                   const std::string& partition, int ranks_per_node) {
  if (flag) return *flag;
  if (config.train.threads > 0) return static_cast<int>(config.train.threads);
  const int cpus = cpus_per_node(partition);
  return cpus > 0 ? std::max(1, cpus / std::max(1, ranks_per_node)) : 1;
}

// The newest job submitted for `out_dir`, when Slurm says it is still pending or running.
// `error` receives why Slurm could not be asked ("" when it answered).
std::optional<SlurmJob> active_job(const std::string& out_dir, std::string* error = nullptr) {
  const std::vector<std::string> jobs = submitted_job_ids(out_dir);
  if (jobs.empty()) return std::nullopt;
  std::optional<SlurmJob> job = query_slurm_job(jobs.back(), error);
  if (job && is_job_active(job->state)) return job;
  return std::nullopt;
}

// A second job on the same directory would run the same cells twice at once; so would one
// submitted while Slurm cannot say whether the last one still runs (a busy slurmctld).
void refuse_if_a_job_is_active(const std::string& out_dir) {
  std::string error;
  const std::optional<SlurmJob> job = active_job(out_dir, &error);
  if (!error.empty()) {
    const std::vector<std::string> jobs = submitted_job_ids(out_dir);
    throw std::runtime_error("cannot tell whether job " + jobs.back() +
                             ", the last one submitted for " + out_dir + ", still runs (" + error +
                             "); try again when `scontrol show job " + jobs.back() + "` answers");
  }
  if (job) {
    throw UsageError("job " + job->id + " (" + job->state + ") already runs the sweep in " +
                     out_dir + "; wait for it (journey status " + out_dir +
                     ") or cancel it (scancel " + job->id + ") before submitting again");
  }
}

// A sweep whose cells have all ended (done, failed or diverged) has nothing left to train: a
// job would only refit. Returns the sentence saying so, or "" when some cell is unfinished.
// With `retry_failed`, failed cells have not ended: they are to run again.
std::string nothing_to_do(const std::string& out_dir, const std::vector<Cell>& cells,
                          bool retry_failed) {
  if (!fs::exists(out_dir + "/ledger.json")) return "";
  const Ledger ledger = Ledger::load(out_dir);
  int done = 0, unsuccessful = 0;
  for (const Cell& cell : cells) {
    bool ended = false;
    for (const CellRecord& r : ledger.records()) {
      if (r.id != cell.id) continue;
      ended = r.status == CellStatus::kDone ||
              (is_unsuccessful(r.status) && !(retry_failed && r.status == CellStatus::kFailed));
      done += r.status == CellStatus::kDone;
      unsuccessful += is_unsuccessful(r.status);
    }
    if (!ended) return "";
  }
  return "nothing to do: all " + std::to_string(cells.size()) + " cells of " + out_dir +
         " have ended (" + std::to_string(done) + " done, " + std::to_string(unsuccessful) +
         " failed or diverged); `journey fit " + out_dir + "` and `journey report " + out_dir +
         "` refit here, --retry-failed submits a job that runs the failed cells again, and "
         "--refit submits a job anyway";
}

// Marks the grid's failed cells of DIR's ledger pending, under the directory's lock (a sweep
// running there by hand holds it), so that the job runs them again from their newest valid
// checkpoints; diverged cells stay final. Returns how many.
int mark_failed_cells_pending(const std::string& out_dir, const std::vector<Cell>& cells) {
  if (!fs::exists(out_dir + "/ledger.json")) return 0;
  const DirectoryLock lock = DirectoryLock::acquire(out_dir, "journey submit --retry-failed");
  Ledger ledger = Ledger::load(out_dir);
  int marked = 0;
  for (CellRecord& r : ledger.records()) {
    if (r.status != CellStatus::kFailed) continue;
    const bool in_grid =
        std::any_of(cells.begin(), cells.end(), [&](const Cell& cell) { return cell.id == r.id; });
    if (!in_grid) continue;
    r.status = CellStatus::kPending;
    r.reason.clear();
    ++marked;
  }
  if (marked > 0) ledger.save();
  return marked;
}

// The partition's nodes from sinfo; a larger --nodes would pend forever.
void check_partition_size(int nodes, const std::string& partition) {
  const int available = nodes_in_partition(partition);
  if (available > 0 && nodes > available) {
    throw UsageError("--nodes " + std::to_string(nodes) + " is more than the " +
                     std::to_string(available) + " node(s) of partition " +
                     (partition.empty() ? std::string("(the default)") : partition) +
                     ": the job would wait forever");
  }
}

std::vector<std::string> this_environment() {
  std::vector<std::string> entries;
  for (char** e = environ; *e != nullptr; ++e) entries.push_back(*e);
  return entries;
}

}  // namespace

void submit_sweep(const RunConfig& config, const std::vector<Cell>& cells,
                  const SubmitOptions& options) {
  const std::string out_dir = fs::absolute(options.out_dir).lexically_normal().string();

  JobRequest request;
  request.nodes = options.nodes;
  if (options.ranks_per_node) request.ranks_per_node = *options.ranks_per_node;
  if (options.gpus_per_node) {
    request.gpus_per_node = *options.gpus_per_node;
    if (request.gpus_per_node < 1) {
      throw UsageError("--gpus-per-node must be at least 1, not " +
                       std::to_string(request.gpus_per_node));
    }
    request.ranks_per_node = request.gpus_per_node + 1;  // At most, on the first node.
  }
  request.extra_sbatch_options = options.extra_sbatch_options;
  request.group_size = static_cast<int>(config.sweep.group_size);
  request.time = options.time;
  request.warn_before_s = options.warn_before_s;
  request.max_requeues = options.max_requeues;
  request.partition = options.partition;
  request.account = options.account;
  request.out_dir = out_dir;
  request.config_path = out_dir + "/job.ini";
  // The `journey` executable itself (not journey-torch): the ranks run the same build.
  request.journey_binary = own_executable();
  request.job_name = options.job_name
                         ? *options.job_name
                         : sanitize_job_name("journey-" + fs::path(out_dir).filename().string());
  // Layout first: choosing threads asks sinfo, which is pointless for a layout that cannot run.
  const int groups = worker_groups(request);
  request.threads_per_rank =
      choose_threads(options.threads_per_rank, config, request.partition, request.ranks_per_node);
  validate_job_request(request);
  const std::vector<std::string> environment_notes =
      describe_sbatch_environment(this_environment());

  Ledger::check_identity(out_dir, check_dataset(config), cells);
  const std::string template_origin =
      options.template_path ? *options.template_path : "slurm/sweep.sbatch.in (built in)";
  const std::string template_text = options.template_path
                                        ? read_text_file(template_origin, "the job template")
                                        : builtin_job_template();
  const std::string script = render_job_script(template_text, template_origin, request);

  char summary[320];
  if (request.gpus_per_node > 0) {
    std::snprintf(summary, sizeof summary,
                  "%zu cells on %d group(s) of %d rank(s): %d node(s) x %d GPU(s), one rank per "
                  "GPU plus the coordinator, %d thread(s) per rank, time limit %s",
                  cells.size(), groups, request.group_size, request.nodes, request.gpus_per_node,
                  request.threads_per_rank, request.time.c_str());
  } else {
    std::snprintf(summary, sizeof summary,
                  "%zu cells on %d group(s) of %d rank(s): %d node(s) x %d ranks, %d thread(s) "
                  "per rank, time limit %s",
                  cells.size(), groups, request.group_size, request.nodes, request.ranks_per_node,
                  request.threads_per_rank, request.time.c_str());
  }
  const std::string finished = nothing_to_do(out_dir, cells, options.retry_failed);
  if (!finished.empty() && !options.refit) {
    std::printf("journey submit: %s\n", finished.c_str());
    return;
  }
  for (const std::string& note : environment_notes) {
    std::fprintf(stderr, "journey submit: note: %s\n", note.c_str());
  }
  if (options.dry_run) {
    std::fputs(script.c_str(), stdout);
    std::string command = "sbatch --parsable";
    for (const std::string& option : sbatch_options(request)) command += " " + shell_quote(option);
    std::fprintf(stderr, "journey submit: would run: %s %s\n", command.c_str(),
                 shell_quote(out_dir + "/job.sbatch").c_str());
    if (const std::optional<SlurmJob> job = active_job(out_dir)) {
      std::fprintf(stderr,
                   "journey submit: job %s (%s) already runs the sweep in %s: a real submit "
                   "would be refused until it ends\n",
                   job->id.c_str(), job->state.c_str(), out_dir.c_str());
    }
    std::fprintf(stderr, "journey submit: dry run, nothing submitted: %s\n", summary);
    return;
  }
  if (find_program("sbatch").empty()) {
    throw UsageError(
        "sbatch is not on PATH: journey submit needs Slurm's client commands on this machine "
        "(a login node of the cluster); --dry-run prints the job script without them");
  }
  refuse_if_a_job_is_active(out_dir);
  check_partition_size(request.nodes, request.partition);
  if (options.retry_failed) {
    const int marked = mark_failed_cells_pending(out_dir, cells);
    std::printf("journey submit: %d failed cell(s) marked pending: the job runs them again\n",
                marked);
  }

  // The job's own config: the effective one, with the dataset as an absolute path (the job
  // runs in DIR) and the layout's threads and group size, so that the job never depends on
  // the file it was submitted from.
  RunConfig job_config = config;
  job_config.data.dir = fs::absolute(config.data.dir).lexically_normal().string();
  job_config.train.threads = request.threads_per_rank;
  fs::create_directories(out_dir + "/logs");
  write_file_atomically(request.config_path, to_ini(job_config));
  const std::string script_path = out_dir + "/job.sbatch";
  write_file_atomically(script_path, script);

  std::vector<std::string> sbatch_argv = {"sbatch", "--parsable"};
  for (const std::string& option : sbatch_options(request)) sbatch_argv.push_back(option);
  sbatch_argv.push_back(script_path);
  const ProgramOutput sbatch = run_program(sbatch_argv);
  const std::string job_id = parse_sbatch_job_id(sbatch.out);
  if (sbatch.exit_code != 0 || job_id.empty()) {
    throw std::runtime_error("sbatch did not accept " + script_path + " (exit " +
                             std::to_string(sbatch.exit_code) + "): " + sbatch.err + sbatch.out);
  }
  record_submitted_job(out_dir, job_id, summary);
  std::printf("submitted job %s: %s\n", job_id.c_str(), summary);
  std::printf("  job log    %s/logs/job-%s.out\n", out_dir.c_str(), job_id.c_str());
  std::printf("  cell logs  %s/cells/<cell>/train.log\n", out_dir.c_str());
  std::printf("  results    %s/results.csv and results.h5\n", out_dir.c_str());
  std::printf("  progress   journey status %s\n", out_dir.c_str());
}

}  // namespace journey
