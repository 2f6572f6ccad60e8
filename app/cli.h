// Shared command-line handling for commands that take a run config.
//
// A command declares its own flags in a Boost.Program_options description; parse_command()
// adds --config FILE and --help, and treats every other --section.key=value as a config
// override. Unknown flags that are not config keys are rejected with exit code 2.
#pragma once

#include <boost/program_options.hpp>
#include <string>

#include "app/command.h"
#include "common/config.h"

namespace journey {

struct ParsedCommand {
  boost::program_options::variables_map flags;
  RunConfig config;  // Validated.
  bool help = false;
};

// `usage` is the first line of --help, e.g. "journey schedule --config X [--steps T]".
// With `needs_config`, a missing --config is a usage error.
ParsedCommand parse_command(const Args& args, boost::program_options::options_description flags,
                            bool needs_config);

// Prints usage, the command's flags and a pointer to the config keys.
void print_help(const std::string& usage, const std::string& description,
                const boost::program_options::options_description& flags);

}  // namespace journey
