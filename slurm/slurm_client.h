// Talking to Slurm through its client programs (sbatch, scontrol, sinfo), as a user would.
// They read the cluster from their usual places (SLURM_CONF, /etc/slurm), so Journey needs
// no Slurm library and runs unchanged against any Slurm version that has these commands.
//
// run_program() starts a program found on PATH without a shell (no quoting problems) and
// returns what it printed; the parse_* functions turn that output into values and are pure.
// A program that is not on PATH is reported by find_program() as an empty string; the
// callers turn that into a sentence for the user.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/executables.h"  // find_program

namespace journey {

struct ProgramOutput {
  int exit_code = -1;  // 127 when the program could not be started.
  std::string out, err;
};

// Runs argv[0] (searched on PATH) with argv, no stdin, and collects stdout and stderr.
ProgramOutput run_program(const std::vector<std::string>& argv);

// The job id from `sbatch --parsable` output ("123" or "123;cluster"); empty if there is none.
std::string parse_sbatch_job_id(const std::string& output);

// A job as `scontrol show job -o ID` describes it.
struct SlurmJob {
  std::string id;
  std::string state;   // PENDING, RUNNING, COMPLETED, ... (JobState)
  std::string reason;  // Why it waits, or None.
  int restarts = 0;    // Times it was requeued (Restarts).
  std::string run_time, time_limit;
  int requeue = -1;  // Requeue=0|1: whether Slurm may requeue it; -1 when not shown.
};

// Parses one line of `scontrol show job -o`; nullopt if it holds no JobId and JobState.
std::optional<SlurmJob> parse_scontrol_job(const std::string& line);

// Asks `scontrol show job -o ID`. nullopt with `error` left empty: Slurm no longer knows the
// job (it ended more than MinJobAge ago). nullopt with `error` set: scontrol is missing or
// failed otherwise (no cluster configured, controller down), and `error` says why.
std::optional<SlurmJob> query_slurm_job(const std::string& job_id, std::string* error = nullptr);

// Whether a job in this state may still run (pending, running, requeued, suspended, ...),
// as opposed to having ended (COMPLETED, FAILED, CANCELLED, TIMEOUT, ...).
bool is_job_active(const std::string& state);

// The fewest CPUs of a node in `partition` (the default one, marked '*', when empty) from
// `sinfo -h -o "%P %c"` output such as "debug* 8\nbig 64+"; 0 when it says nothing usable.
int parse_sinfo_cpus(const std::string& output, const std::string& partition);

// parse_sinfo_cpus() of what sinfo says now; 0 when sinfo is missing or fails.
int cpus_per_node(const std::string& partition);

// The nodes of `partition` (the default one when empty) from `sinfo -h -o "%P %D"` output
// such as "debug* 4\nbig 16" (lines of one partition are summed); 0 when it says nothing.
int parse_sinfo_nodes(const std::string& output, const std::string& partition);
// parse_sinfo_nodes() of what sinfo says now; 0 when sinfo is missing or fails.
int nodes_in_partition(const std::string& partition);

}  // namespace journey
