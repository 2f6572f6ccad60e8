#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "app/command.h"
#include "common/closest_name.h"
#include "common/error.h"
#include "common/executables.h"
#include "common/exit_codes.h"
#include "common/version.h"

namespace journey {
namespace {

void print_usage(const std::vector<Command>& commands) {
  std::printf(
      "usage: journey <command> [options]\n\n"
      "Sparse and dense LLM pre-training sweeps and the scaling law that unifies them.\n\n"
      "commands:\n");
  for (const Command& c : commands) std::printf("  %-10s %s\n", c.name, c.summary);
  std::printf(
      "\n`journey <command> --help` explains each command; `journey --version` names the "
      "release and the commit it was built from.\n");
}

// Replaces this process with journey-torch from the same directory, same arguments.
int exec_torch_binary(char** argv) {
  std::string path;
  try {
    path = sibling_executable("journey-torch");
  } catch (const DataError& e) {
    std::fprintf(stderr, "journey: %s\n", e.what());
    return exit_code::kFailure;
  }
  execv(path.c_str(), argv);
  std::fprintf(stderr, "journey: cannot run %s: %s\n", path.c_str(), std::strerror(errno));
  return exit_code::kFailure;
}

}  // namespace

int dispatch(int argc, char** argv, const std::vector<Command>& commands, const char* program) {
  if (argc < 2) {
    print_usage(commands);
    return exit_code::kUsage;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(commands);
    return exit_code::kOk;
  }
  if (name == "--version" || name == "version") {
    std::printf("%s\n", journey_version_line(program).c_str());
    return exit_code::kOk;
  }
  for (const Command& command : commands) {
    if (name != command.name) continue;
    if (command.entry == nullptr) return exec_torch_binary(argv);
    try {
      return command.entry(Args(argv + 2, argv + argc));
    } catch (const UsageError& e) {
      std::fprintf(stderr, "journey %s: error: %s\n", command.name, e.what());
      return exit_code::kUsage;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "journey %s: error: %s\n", command.name, e.what());
      return exit_code::kFailure;
    }
  }
  std::vector<std::string> names;
  for (const Command& command : commands) names.push_back(command.name);
  const std::string suggestion = did_you_mean(name, names);
  std::fprintf(stderr, "%s: unknown command '%s'%s\n", program, name.c_str(),
               suggestion.empty() ? " (see `journey --help`)" : suggestion.c_str());
  return exit_code::kUsage;
}

}  // namespace journey
