// The Slurm batch script of a sweep: what `journey submit` checks and renders.
//
// A CPU sweep job is nodes x ranks_per_node ranks; a GPU job is one rank per GPU plus the
// coordinator, nodes x gpus_per_node + 1 ranks placed by a host file (the coordinator shares
// the first node). Either must be one coordinator and G >= 1 worker groups of group_size
// ranks (journey sweep refuses any other count, and would do so only after the job had
// waited in the queue). The script comes from a template, slurm/sweep.sbatch.in built into
// the binary or a site's own copy, whose {{NAME}} placeholders render_job_script() fills in.
//
// Everything that decides how the job runs (layout, time limit, warning signal, requeue, log
// files) is also passed on the sbatch command line (sbatch_options()): sbatch lets SBATCH_*
// environment variables, often set site-wide, override #SBATCH lines but not its command
// line. Everything here is pure: no files, no Slurm.
//
// Every check throws UsageError with a sentence naming the option and what it must be.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace journey {

struct JobRequest {
  int nodes = 1;
  int ranks_per_node = 0;  // CPU jobs; ignored when gpus_per_node > 0.
  int gpus_per_node = 0;   // 0: a CPU job.
  int group_size = 1;
  int threads_per_rank = 1;  // --cpus-per-task; also the sweep's train.threads.
  std::string time;          // Slurm's --time, e.g. "2:00:00" or "1-12".
  int warn_before_s = 300;   // SIGUSR2 this long before the time limit.
  int max_requeues = 20;
  std::string partition, account;  // Empty: the cluster's default.
  std::string job_name;
  // Absolute paths.
  std::string journey_binary;  // The `journey` the ranks run.
  std::string config_path;     // The job's copy of the config, inside out_dir.
  std::string out_dir;         // The sweep directory.
  // Other sbatch options, passed through as they are (check_sbatch_pass_through()).
  std::vector<std::string> extra_sbatch_options;

  int total_ranks() const {
    return gpus_per_node > 0 ? nodes * gpus_per_node + 1 : nodes * ranks_per_node;
  }
};

// Seconds of a Slurm time limit: "minutes", "minutes:seconds", "hours:minutes:seconds",
// "days-hours", "days-hours:minutes" or "days-hours:minutes:seconds". Positive and finite.
int64_t parse_time_limit(const std::string& text);

// The worker groups G of nodes * ranks_per_node = 1 + G * group_size; throws unless G >= 1,
// suggesting rank counts that fit.
int worker_groups(int nodes, int ranks_per_node, int group_size);
// The same for the request's layout, CPU or GPU.
int worker_groups(const JobRequest& request);

// A pass-through sbatch option ("--qos=high", "--exclusive", "--constraint=a&b"): the long
// form, one argument, no control characters, and none of the options journey submit sets
// itself (those have flags of their own), nor a prefix of one (sbatch expands unambiguous
// prefixes: --arr is --array). Throws UsageError naming it otherwise.
void check_sbatch_pass_through(const std::string& option);

// The sbatch command-line options of the request: layout, time, signal, requeue, output,
// partition, account, GPUs and the pass-through options (the script path comes after them).
std::vector<std::string> sbatch_options(const JobRequest& request);

// For each SBATCH_* variable in `environment` ("NAME=value" entries), a sentence saying
// whether the job's command line overrides it or sbatch applies it.
std::vector<std::string> describe_sbatch_environment(const std::vector<std::string>& environment);

// Checks everything that does not need files: the layout, the time limit against the
// warning (Slurm may signal up to a minute early, and the sweep must still have time to
// run), counts, and that paths and names fit in #SBATCH lines, which cannot quote.
void validate_job_request(const JobRequest& request);

// slurm/sweep.sbatch.in as built into this binary.
const std::string& builtin_job_template();

// The template with every {{NAME}} replaced; a placeholder the request does not define is a
// UsageError naming `template_origin` (a site template with a typo must not reach sbatch).
// Placeholders: JOB_NAME NODES RANKS_PER_NODE THREADS_PER_RANK TIME WARN_BEFORE
// MAX_REQUEUES SITE_OPTIONS (the #SBATCH lines of --partition, --account and the
// pass-through options, or nothing) TASK_LAYOUT (#SBATCH lines of the tasks and GPUs)
// RANK_PLACEMENT (shell lines writing a GPU job's host file, or nothing) SRUN_OPTIONS
// OUT_DIR (raw, for #SBATCH lines) OUT_DIR_ARG CONFIG JOURNEY (shell-quoted) GROUP_SIZE
// GPUS_PER_NODE.
std::string render_job_script(const std::string& template_text, const std::string& template_origin,
                              const JobRequest& request);

// `text` as one shell word: unchanged when it is plainly safe, otherwise in single quotes.
std::string shell_quote(const std::string& text);

// A job name Slurm and shells take as is: letters, digits, '.', '_' and '-'.
std::string sanitize_job_name(const std::string& text);

}  // namespace journey
