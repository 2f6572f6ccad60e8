// A `journey` subcommand: its name, a one-line summary for `journey --help`, and its entry
// point. Each command lives in its own app/cmd_*.cpp and is listed once in app/main.cpp.
//
// Entry points receive the arguments after the command name, return an exit code
// (common/exit_codes.h) and may throw UsageError or DataError, which main() reports.
#pragma once

#include <string>
#include <vector>

namespace journey {

using Args = std::vector<std::string>;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
};

int run_config(const Args& args);
int run_schedule(const Args& args);
// -- data --
// -- fit --
// -- io --

}  // namespace journey
