// SIGTERM and SIGUSR2 as a request to stop at the next step boundary (preemption).
//
// Slurm sends SIGTERM before killing a job and, with --signal, a warning signal before the
// time limit (Journey uses SIGUSR2; SIGUSR1 belongs to NCCL). The handler only sets a flag;
// trainers poll it between steps, agree over their group, checkpoint and exit with
// exit_code::kPreempted.
#pragma once

namespace journey {

// Installs the handlers (idempotent).
void install_stop_signal_handlers();
bool stop_requested();

}  // namespace journey
