// Shared command-line handling. A command declares its own flags in a Boost.Program_options
// description and hands it to one of two parsers:
//
// parse_command(), for commands that take a run config: adds --config FILE and --help, and
// treats every other --section.key=value as a config override. Unknown flags that are not
// config keys are rejected with exit code 2.
//
// parse_flags(), for commands that take only their own flags and positional arguments (no
// run config): adds --help, which prints the command's help, and reports every malformed
// command line as a UsageError (exit code 2).
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

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

// What --help of a parse_flags() command prints: "usage: <usage>", a blank line, the
// description, a blank line and the flags.
struct FlagsUsage {
  std::string usage;        // e.g. "journey inspect CKPT [--json]"
  std::string description;  // One or more paragraphs, without a trailing newline.
  // Whether a malformed command line's message ends in " (usage: <usage>)".
  bool usage_in_errors = false;
};

struct ParsedFlags {
  boost::program_options::variables_map flags;  // Positional arguments under their names.
  bool help = false;  // --help was given and the help is printed: the command returns kOk.
};

// Parses `args` against `flags` plus --help. `positional` names the positional arguments in
// order; each takes one argument and is also accepted as --name VALUE, and more arguments
// than names are a usage error (with no names, any positional argument is). A last name
// ending in "..." ("results...") takes all the remaining arguments, as a
// std::vector<std::string> under the name without the dots. With --help
// the help is printed to stdout and nothing else is checked (not even required flags).
// Throws UsageError with Boost's message (plus the usage, see FlagsUsage) for an unknown
// flag, a missing or malformed value, a missing required flag or too many arguments.
ParsedFlags parse_flags(const Args& args, boost::program_options::options_description flags,
                        const std::vector<std::string>& positional, const FlagsUsage& usage);

// For the commands that act on a sweep (`journey sweep`, `journey submit`), whose flags
// include --out DIR and --group-size k: the config with --group-size applied (then
// validated again), and the sweep directory, --out or runs/<config file's name>.
RunConfig sweep_config(const ParsedCommand& cmd);
std::string sweep_out_dir(const ParsedCommand& cmd);

// Throws a UsageError naming `flag` when `path` exists but is not a directory: an output
// directory must be creatable or already one.
void require_directory_or_absent(const std::string& path, const std::string& flag);

}  // namespace journey
