// `journey inspect CKPT`: what a checkpoint holds and whether every byte of it is sound.
#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <variant>

#include "app/cli.h"
#include "app/command.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "io/checkpoint_summary.h"

namespace po = boost::program_options;

namespace journey {
namespace {

constexpr char kUsage[] = "journey inspect CKPT [--json]";

std::string attr_text(const CheckpointReader::AttrValue& value) {
  if (auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&value)) {
    char text[32];  // The shortest text that reads back as the same double.
    return std::string(text, std::to_chars(text, text + sizeof text, *d).ptr);
  }
  return std::get<std::string>(value);
}

const CheckpointReader::AttrValue* find_attr(const CheckpointSummary& s, const std::string& name) {
  for (const auto& [key, value] : s.attributes) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::string attr_or(const CheckpointSummary& s, const std::string& name, const char* missing) {
  const CheckpointReader::AttrValue* value = find_attr(s, name);
  return value ? attr_text(*value) : missing;
}

bool is_reported_separately(const std::string& name) {
  for (const char* known :
       {checkpoint::kFormatAttr, checkpoint::kFormatVersionAttr, checkpoint::kCreatedAttr,
        checkpoint::kStepAttr, checkpoint::kTokensSeenAttr, checkpoint::kCellIdAttr,
        checkpoint::kTokenizerHashAttr, checkpoint::kConfigAttr, checkpoint::kWrittenByRanksAttr}) {
    if (name == known) return true;
  }
  return false;
}

void print_count(const MaskCount& c, int name_width) {
  std::printf("  %-*s %.4f  (%lld of %lld kept)\n", name_width, c.name.c_str(), c.sparsity(),
              static_cast<long long>(c.kept), static_cast<long long>(c.total));
}

void print_text(const CheckpointSummary& s) {
  std::printf("checkpoint  %s\n", s.path.c_str());
  std::printf("format      %s %s, created %s, written by %s ranks\n",
              attr_or(s, checkpoint::kFormatAttr, "?").c_str(),
              attr_or(s, checkpoint::kFormatVersionAttr, "?").c_str(),
              attr_or(s, checkpoint::kCreatedAttr, "?").c_str(),
              attr_or(s, checkpoint::kWrittenByRanksAttr, "?").c_str());
  std::printf("step        %s\n", attr_or(s, checkpoint::kStepAttr, "(not recorded)").c_str());
  std::printf("tokens      %s\n",
              attr_or(s, checkpoint::kTokensSeenAttr, "(not recorded)").c_str());
  std::printf("cell        %s\n", attr_or(s, checkpoint::kCellIdAttr, "(not recorded)").c_str());
  std::printf("tokenizer   %s\n",
              attr_or(s, checkpoint::kTokenizerHashAttr, "(not recorded)").c_str());
  std::printf("config     ");
  const CheckpointReader::AttrValue* config = find_attr(s, checkpoint::kConfigAttr);
  if (config && std::holds_alternative<std::string>(*config)) {
    for (const auto& [key, value] : config_highlights(std::get<std::string>(*config))) {
      std::printf(" %s=%s", key.c_str(), value.c_str());
    }
    std::printf("\n");
  } else {
    std::printf(" (not recorded)\n");
  }
  for (const auto& [name, value] : s.attributes) {
    if (!is_reported_separately(name)) {
      std::printf("attribute   %s = %s\n", name.c_str(), attr_text(value).c_str());
    }
  }
  std::printf("parameters  %lld tensors, %lld values\n",
              static_cast<long long>(s.parameter_tensors),
              static_cast<long long>(s.parameter_count));
  if (s.parameters.empty()) {
    std::printf("sparsity    no masks (dense)\n");
  } else {
    int width = 0;
    for (const MaskCount& c : s.parameters) {
      width = std::max(width, static_cast<int>(c.name.size()));
    }
    std::printf("sparsity per parameter:\n");
    for (const MaskCount& c : s.parameters) print_count(c, width);
    std::printf("sparsity per layer:\n");
    for (const MaskCount& c : s.layers) print_count(c, width);
    std::printf("sparsity    %.4f of prunable weights (%lld of %lld kept)\n", s.prunable.sparsity(),
                static_cast<long long>(s.prunable.kept), static_cast<long long>(s.prunable.total));
  }
  if (s.mean_active) {
    std::printf("N-bar       %.1f (mean of history/active over %lld steps)\n", *s.mean_active,
                static_cast<long long>(s.history_steps));
  }
  if (s.problems.empty()) {
    std::printf("verify      OK: %lld datasets read back with valid checksums; masks agree\n",
                static_cast<long long>(s.datasets));
  } else {
    std::printf("verify      FAILED: %zu problems\n", s.problems.size());
    for (const CheckpointProblem& p : s.problems) {
      std::printf("  %s: %s\n", p.dataset.c_str(), p.error.c_str());
    }
  }
}

nlohmann::json count_json(const MaskCount& c) {
  return {{"name", c.name}, {"total", c.total}, {"kept", c.kept}, {"sparsity", c.sparsity()}};
}

void print_json(const CheckpointSummary& s) {
  nlohmann::json out;
  out["path"] = s.path;
  out["ok"] = s.problems.empty();
  nlohmann::json attributes = nlohmann::json::object();
  for (const auto& [name, value] : s.attributes) {
    std::visit([&, &key = name](const auto& v) { attributes[key] = v; }, value);
  }
  out["attributes"] = attributes;
  nlohmann::json config = nlohmann::json::object();
  const CheckpointReader::AttrValue* ini = find_attr(s, checkpoint::kConfigAttr);
  if (ini && std::holds_alternative<std::string>(*ini)) {
    for (const auto& [key, value] : config_highlights(std::get<std::string>(*ini))) {
      config[key] = value;
    }
  }
  out["config_highlights"] = config;
  out["parameters"] = {{"tensors", s.parameter_tensors}, {"values", s.parameter_count}};
  nlohmann::json sparsity = nlohmann::json::object();
  if (!s.parameters.empty()) {
    sparsity["parameters"] = nlohmann::json::array();
    for (const MaskCount& c : s.parameters) sparsity["parameters"].push_back(count_json(c));
    sparsity["layers"] = nlohmann::json::array();
    for (const MaskCount& c : s.layers) sparsity["layers"].push_back(count_json(c));
    sparsity["prunable"] = count_json(s.prunable);
  }
  out["sparsity"] = sparsity;
  out["n_bar"] = s.mean_active ? nlohmann::json(*s.mean_active) : nlohmann::json(nullptr);
  out["history_steps"] = s.history_steps;
  out["datasets"] = s.datasets;
  out["problems"] = nlohmann::json::array();
  for (const CheckpointProblem& p : s.problems) {
    out["problems"].push_back({{"dataset", p.dataset}, {"error", p.error}});
  }
  std::cout << out.dump(2) << "\n";
}

}  // namespace

int command_inspect(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("json", "print machine-readable JSON instead of text");
  const ParsedFlags parsed = parse_flags(
      args, flags, {"checkpoint"},
      {kUsage,
       "Prints a checkpoint's step, tokens, cell, config summary, sparsity per parameter, per "
       "layer and overall, and N-bar so far, after reading every dataset back to check its "
       "checksum and that masks agree with parameters. Exits 1 naming each problem when "
       "anything is corrupt or inconsistent.",
       true});
  if (parsed.help) return exit_code::kOk;
  const po::variables_map& vm = parsed.flags;
  if (!vm.count("checkpoint")) {
    throw UsageError(std::string("missing checkpoint file (usage: ") + kUsage + ")");
  }
  CheckpointSummary summary = summarize(CheckpointReader::open(vm["checkpoint"].as<std::string>()));
  if (vm.count("json")) {
    print_json(summary);
  } else {
    print_text(summary);
  }
  return summary.problems.empty() ? exit_code::kOk : exit_code::kFailure;
}

}  // namespace journey
