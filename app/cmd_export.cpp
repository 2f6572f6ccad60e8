// `journey export CKPT|DIR --out DIR [--format hf|safetensors]`: a checkpoint's model for
// other tools (interop/hf_export.h): a Hugging Face Llama folder, or Journey's tensors as a
// safetensors file with the config beside it.
#include <boost/program_options.hpp>
#include <cstdio>
#include <optional>
#include <string>

#include "app/cli.h"
#include "app/command.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "common/named_values.h"
#include "interop/hf_export.h"
#include "io/checkpoint_dir.h"

namespace po = boost::program_options;

namespace journey {
namespace {

constexpr char kUsage[] = "journey export CKPT|DIR --out DIR [--format hf|safetensors]";

// --format's values; the flag's help is their descriptions.
constexpr NamedValue<ExportFormat> kFormats[] = {
    {"hf", ExportFormat::kHuggingFace,
     "a Hugging Face Llama folder (config.json, model.safetensors with masks applied and the "
     "attention scale folded into q_proj, masks.safetensors as CSR, tokenizer files)"},
    {"safetensors", ExportFormat::kSafetensors,
     "model.safetensors with Journey's names, unscaled, config.ini and journey.json"},
};

std::string format_help() {
  std::string help;
  for (const auto& row : kFormats) {
    help += std::string(help.empty() ? "" : "; ") + row.name + ": " + row.description;
  }
  return help;
}

}  // namespace

int command_export(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("out", po::value<std::string>(), "new or empty output directory")(
      "format", po::value<std::string>()->default_value(kFormats[0].name), format_help().c_str());
  const ParsedFlags parsed = parse_flags(
      args, flags, {"checkpoint"},
      {kUsage,
       "Writes a checkpoint's model in a format other tools read. CKPT is a checkpoint file, or "
       "a cell's or run's directory, whose newest valid checkpoint is used. The hf folder loads in "
       "transformers' LlamaForCausalLM and gives the loss `journey eval` gives "
       "(docs/model-semantics.md). The checkpoint is verified first; DIR must be new or empty.",
       true});
  if (parsed.help) return exit_code::kOk;
  const po::variables_map& vm = parsed.flags;
  if (!vm.count("checkpoint")) {
    throw UsageError(std::string("missing checkpoint file (usage: ") + kUsage + ")");
  }
  if (!vm.count("out")) throw UsageError(std::string("missing --out DIR (usage: ") + kUsage + ")");
  const std::string format_name = vm["format"].as<std::string>();
  const std::optional<ExportFormat> format = value_named(kFormats, format_name);
  if (!format) throw UsageError("--format " + format_name + ": expected " + names_of(kFormats));
  const std::string checkpoint = resolve_checkpoint(vm["checkpoint"].as<std::string>());
  const std::string out = vm["out"].as<std::string>();
  const ExportResult r = export_checkpoint(checkpoint, out, *format);
  std::printf("exported %s (step %lld, sparsity %.4f) to %s: %d tensors", checkpoint.c_str(),
              static_cast<long long>(r.step), r.sparsity, out.c_str(), r.tensors);
  if (r.masks > 0) std::printf(", %d masks as CSR", r.masks);
  std::printf("\n");
  return exit_code::kOk;
}

}  // namespace journey
