// The Slurm batch script of a sweep: what `journey submit` checks and renders.
//
// A sweep job is nodes x ranks_per_node ranks, which must be one coordinator and G >= 1
// worker groups of group_size ranks (journey sweep refuses any other count, and would do so
// only after the job had waited in the queue). The script comes from a template,
// slurm/sweep.sbatch.in built into the binary or a site's own copy, whose {{NAME}}
// placeholders render_job_script() fills in. Everything here is pure: no files, no Slurm.
//
// Every check throws UsageError with a sentence naming the option and what it must be.
#pragma once

#include <cstdint>
#include <string>

namespace journey {

struct JobRequest {
  int nodes = 1;
  int ranks_per_node = 0;
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
};

// Seconds of a Slurm time limit: "minutes", "minutes:seconds", "hours:minutes:seconds",
// "days-hours", "days-hours:minutes" or "days-hours:minutes:seconds". Positive and finite.
int64_t parse_time_limit(const std::string& text);

// The worker groups G of nodes * ranks_per_node = 1 + G * group_size; throws unless G >= 1,
// suggesting rank counts that fit.
int worker_groups(int nodes, int ranks_per_node, int group_size);

// Checks everything that does not need files: the layout, the time limit against the
// warning (Slurm may signal up to a minute early, and the sweep must still have time to
// run), counts, and that paths and names fit in #SBATCH lines, which cannot quote.
void validate_job_request(const JobRequest& request);

// slurm/sweep.sbatch.in as built into this binary.
const std::string& builtin_job_template();

// The template with every {{NAME}} replaced; a placeholder the request does not define is a
// UsageError naming `template_origin` (a site template with a typo must not reach sbatch).
// Placeholders: JOB_NAME NODES RANKS_PER_NODE THREADS_PER_RANK TIME WARN_BEFORE
// MAX_REQUEUES SITE_OPTIONS (the #SBATCH lines of --partition and --account, or nothing)
// OUT_DIR (raw, for #SBATCH lines) OUT_DIR_ARG CONFIG JOURNEY (shell-quoted) GROUP_SIZE.
std::string render_job_script(const std::string& template_text, const std::string& template_origin,
                              const JobRequest& request);

// `text` as one shell word: unchanged when it is plainly safe, otherwise in single quotes.
std::string shell_quote(const std::string& text);

// A job name Slurm and shells take as is: letters, digits, '.', '_' and '-'.
std::string sanitize_job_name(const std::string& text);

}  // namespace journey
