// journey: the command-line entry point. Dispatch only; each command lives in app/cmd_*.cpp.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "app/command.h"
#include "common/error.h"
#include "common/exit_codes.h"

namespace journey {
namespace {

const Command kCommands[] = {
    {"schedule", "print a run's pruning schedule, N-bar and compute before training", run_schedule},
    {"config", "print the effective config (defaults + file + overrides)", run_config},
    // -- data --
    // -- fit --
    // -- io --
};

void print_usage() {
  std::printf(
      "usage: journey <command> [options]\n\n"
      "Sparse and dense LLM pre-training sweeps and the scaling law that unifies them.\n\n"
      "commands:\n");
  for (const Command& c : kCommands) std::printf("  %-10s %s\n", c.name, c.summary);
  std::printf("\n`journey <command> --help` explains each command.\n");
}

}  // namespace
}  // namespace journey

int main(int argc, char** argv) {
  using namespace journey;
  if (argc < 2) {
    print_usage();
    return exit_code::kUsage;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage();
    return exit_code::kOk;
  }
  for (const Command& command : kCommands) {
    if (name != command.name) continue;
    try {
      return command.run(Args(argv + 2, argv + argc));
    } catch (const UsageError& e) {
      std::fprintf(stderr, "journey %s: error: %s\n", command.name, e.what());
      return exit_code::kUsage;
    } catch (const DataError& e) {
      std::fprintf(stderr, "journey %s: error: %s\n", command.name, e.what());
      return exit_code::kFailure;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "journey %s: error: %s\n", command.name, e.what());
      return exit_code::kFailure;
    }
  }
  std::fprintf(stderr, "journey: unknown command '%s' (see `journey --help`)\n", name.c_str());
  return exit_code::kUsage;
}
