#include "app/cli.h"

#include <filesystem>
#include <iostream>

#include "common/error.h"
#include "common/program_options_error.h"

namespace po = boost::program_options;

namespace journey {

ParsedCommand parse_command(const Args& args, po::options_description flags, bool needs_config) {
  ParsedCommand result;
  flags.add_options()("config", po::value<std::string>(), "run config file (INI)")(
      "help,h", "show this help");
  po::parsed_options parsed = [&] {
    try {
      return po::command_line_parser(args).options(flags).allow_unregistered().run();
    } catch (po::error& e) {
      throw UsageError(program_options_error_text(e));
    }
  }();
  // Everything the command does not know must be a config override.
  std::vector<std::string> overrides =
      po::collect_unrecognized(parsed.options, po::include_positional);
  try {
    po::store(parsed, result.flags);
    po::notify(result.flags);
  } catch (po::error& e) {
    throw UsageError(program_options_error_text(e));
  }
  result.help = result.flags.count("help") > 0;
  if (result.help) return result;
  // Overrides are --section.key=value or --section.key value.
  bool value_expected = false;
  for (const std::string& o : overrides) {
    const bool is_key = o.rfind("--", 0) == 0 && o.find('.') != std::string::npos;
    if (!is_key && !value_expected) {
      const std::string suggestion = did_you_mean_option(o, flags, "--");
      throw UsageError("unknown option or argument '" + o + "'" +
                       (suggestion.empty() ? " (see --help)" : suggestion));
    }
    value_expected = is_key && o.find('=') == std::string::npos;
  }
  std::string config_path;
  if (result.flags.count("config")) config_path = result.flags["config"].as<std::string>();
  if (needs_config && config_path.empty()) throw UsageError("missing --config FILE");
  result.config = parse_config(config_path, overrides);
  validate(result.config);
  return result;
}

void print_help(const std::string& usage, const std::string& description,
                const po::options_description& flags) {
  std::cout << "usage: " << usage << "\n\n"
            << description << "\n\n"
            << flags << "  --config FILE         run config file (INI)\n"
            << "  --section.key=VALUE   override any config key; `journey config --help` "
               "lists them\n";
}

ParsedFlags parse_flags(const Args& args, po::options_description flags,
                        const std::vector<std::string>& positional, const FlagsUsage& usage) {
  flags.add_options()("help,h", "show this help");
  po::options_description all;
  all.add(flags);
  po::positional_options_description positions;
  for (const std::string& name : positional) {
    const size_t dots = name.size() > 3 ? name.rfind("...") : std::string::npos;
    if (dots != std::string::npos && dots == name.size() - 3 && &name == &positional.back()) {
      const std::string rest = name.substr(0, dots);
      all.add_options()(rest.c_str(), po::value<std::vector<std::string>>());
      positions.add(rest.c_str(), -1);
    } else {
      all.add_options()(name.c_str(), po::value<std::string>());
      positions.add(name.c_str(), 1);
    }
  }
  const auto usage_error = [&](po::error& e) {
    std::string text = program_options_error_text(e);
    if (auto* unknown = dynamic_cast<po::unknown_option*>(&e)) {
      text += did_you_mean_option(unknown->get_option_name(), flags, "--");
    }
    return UsageError(usage.usage_in_errors ? text + " (usage: " + usage.usage + ")" : text);
  };
  ParsedFlags result;
  try {
    // An empty positional description makes Boost reject stray arguments.
    po::store(po::command_line_parser(args).options(all).positional(positions).run(), result.flags);
  } catch (po::error& e) {
    throw usage_error(e);
  }
  result.help = result.flags.count("help") > 0;
  if (result.help) {
    std::cout << "usage: " << usage.usage << "\n\n" << usage.description << "\n\n" << flags;
    return result;
  }
  try {
    po::notify(result.flags);
  } catch (po::error& e) {
    throw usage_error(e);
  }
  return result;
}

void require_directory_or_absent(const std::string& path, const std::string& flag) {
  std::error_code error;
  if (std::filesystem::exists(path, error) && !std::filesystem::is_directory(path, error)) {
    throw UsageError(flag + " " + path + " exists and is not a directory");
  }
}

RunConfig sweep_config(const ParsedCommand& cmd) {
  RunConfig config = cmd.config;
  if (cmd.flags.count("group-size")) config.sweep.group_size = cmd.flags["group-size"].as<int>();
  validate(config);
  return config;
}

std::string sweep_out_dir(const ParsedCommand& cmd) {
  if (cmd.flags.count("out")) return cmd.flags["out"].as<std::string>();
  return "runs/" + std::filesystem::path(cmd.flags["config"].as<std::string>()).stem().string();
}

}  // namespace journey
