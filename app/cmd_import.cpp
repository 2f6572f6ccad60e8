// `journey import HF_DIR --out DIR|FILE.h5 [--config FILE]`: a Hugging Face Llama folder as a
// Journey checkpoint (interop/hf_import.h), for `journey eval` and `journey train`.
#include <boost/program_options.hpp>
#include <cstdio>
#include <string>

#include "app/cli.h"
#include "app/command.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "interop/hf_import.h"

namespace po = boost::program_options;

namespace journey {
namespace {

constexpr char kUsage[] = "journey import HF_DIR --out DIR|FILE.h5 [--config FILE]";

}  // namespace

int command_import(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("out", po::value<std::string>(),
                      "a run directory (the checkpoint goes to DIR/checkpoints/ckpt-<step>.h5, "
                      "where `journey train --out DIR` resumes from it) or a path ending in .h5; "
                      "an existing file is never overwritten")(
      "config", po::value<std::string>(),
      "training settings (INI) for a folder without journey.json; its [model] keys must agree "
      "with config.json, and its model.seq_len (when set) replaces max_position_embeddings");
  const ParsedFlags parsed = parse_flags(
      args, flags, {"folder"},
      {kUsage,
       "Writes a Hugging Face Llama folder (model.safetensors in F32, BF16 or F16, "
       "config.json, tokenizer.model, and masks.safetensors when it is sparse) as a Journey "
       "checkpoint that `journey eval` scores and `journey train` continues. A folder written by "
       "`journey export` (it holds journey.json) comes back with its stored config, step and "
       "run; a foreign model starts at step 0 with zero AdamW moments. Models Journey cannot "
       "express (tied embeddings, grouped-query attention, biases, rope scaling) are refused "
       "naming the config key (docs/model-semantics.md, \"Importing\").",
       true});
  if (parsed.help) return exit_code::kOk;
  const po::variables_map& vm = parsed.flags;
  if (!vm.count("folder")) {
    throw UsageError(std::string("missing Hugging Face folder (usage: ") + kUsage + ")");
  }
  if (!vm.count("out")) {
    throw UsageError(std::string("missing --out DIR|FILE.h5 (usage: ") + kUsage + ")");
  }
  const std::string config = vm.count("config") ? vm["config"].as<std::string>() : "";
  const ImportResult r =
      import_hf_folder(vm["folder"].as<std::string>(), vm["out"].as<std::string>(), config);
  std::printf(
      "imported %s (%s, step %lld, sparsity %.4f, %d tensors, %d masks from "
      "masks.safetensors) to %s\n",
      vm["folder"].as<std::string>().c_str(),
      r.journey_export ? "a journey export: its stored config" : "config.json",
      static_cast<long long>(r.step), r.sparsity, r.tensors, r.masks_from_file,
      r.checkpoint.c_str());
  return exit_code::kOk;
}

}  // namespace journey
