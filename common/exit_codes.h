// Process exit codes. Scripts and Slurm job templates branch on these, so they are part of
// the interface: change them only with README.md ("Exit codes") and docs/slurm.md.
#pragma once

namespace journey::exit_code {

constexpr int kOk = 0;
// A runtime failure: I/O error, corrupt file, or (for sweeps) at least one failed cell.
constexpr int kFailure = 1;
// Bad command line or config, including a data.dir that holds no dataset or too little data
// for the config, and a sweep directory or checkpoint of another config or other data;
// nothing was started.
constexpr int kUsage = 2;
// Preempted (SIGTERM / SIGUSR2): every group checkpointed and the ledger is flushed; or a
// sweep gave up on a group that stopped answering (its cell resumes from its newest
// checkpoint). Running the same command again resumes. 75 is EX_TEMPFAIL from <sysexits.h>.
constexpr int kPreempted = 75;

}  // namespace journey::exit_code
