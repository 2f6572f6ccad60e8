// A `journey` subcommand: its name, a one-line summary for `journey --help`, and its entry
// point. Each command lives in its own app/cmd_*.cpp.
//
// There are two executables. `journey` (app/main.cpp) holds every torch-free command and is
// what users run; `journey-torch` (app/torch_main.cpp) holds the commands that train, and
// `journey` hands those over to it by exec (same process, same arguments, so mpirun and
// srun see no difference). The split exists because Debian's libsentencepiece exports a
// bundled protobuf that clashes with LibTorch's in one process; it also keeps the torch-free
// commands' start-up free of LibTorch's ~1 s of library loading.
//
// Entry points are named command_<name> after their app/cmd_<name>.cpp ("run" is left to what
// a run records: run/). They receive the arguments after the command name, return an exit code
// (common/exit_codes.h) and may throw UsageError or DataError, which dispatch() reports.
#pragma once

#include <string>
#include <vector>

namespace journey {

using Args = std::vector<std::string>;

struct Command {
  const char* name;
  const char* summary;
  int (*entry)(const Args& args);  // nullptr: the command runs in journey-torch.
};

// Runs the command argv[1] of `commands` (or prints usage) and returns the exit code.
// `program` names the executable in messages.
int dispatch(int argc, char** argv, const std::vector<Command>& commands, const char* program);

int command_config(const Args& args);
int command_schedule(const Args& args);
// -- data --
int command_prepare(const Args& args);
// -- fit --
int command_fit(const Args& args);
int command_plan(const Args& args);
// -- io --
int command_inspect(const Args& args);
int command_export(const Args& args);
int command_import(const Args& args);
// -- worker --
int command_train(const Args& args);
int command_eval(const Args& args);         // torch-free half of `journey eval`
int command_eval_tokens(const Args& args);  // journey-torch's half (internal)
int command_sweep(const Args& args);
// -- slurm --
int command_submit(const Args& args);
int command_status(const Args& args);
// -- report --
int command_report(const Args& args);

}  // namespace journey
