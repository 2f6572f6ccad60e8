// `journey config`: print the effective, validated config (defaults, file and overrides).
#include <iostream>

#include "app/cli.h"
#include "common/exit_codes.h"

namespace journey {

int command_config(const Args& args) {
  boost::program_options::options_description flags("Options");
  ParsedCommand cmd = parse_command(args, flags, false);
  if (cmd.help) {
    print_help("journey config [--config FILE] [--section.key=VALUE ...]",
               "Prints the effective config after validation, in INI form: save it to "
               "reproduce a run.",
               flags);
    std::cout << "\n" << config_help();
    return exit_code::kOk;
  }
  std::cout << to_ini(cmd.config);
  return exit_code::kOk;
}

}  // namespace journey
