// `journey export`: a checkpoint's model as files other tools read (docs/model-semantics.md).
//
// Format kHuggingFace writes a Hugging Face Llama folder that LlamaForCausalLM and an
// independent forward pass (tests/python/hf_llama_forward.py) load as they are:
//   config.json              LlamaConfig: sizes, rms_norm_eps, rope_theta, vocab, untied head
//   model.safetensors        float32 weights under HF names, masks applied, and wq multiplied
//                            by sqrt(d_head): HF scales attention logits by d_head^-1/2, Journey
//                            folds that scale into wq's initialisation instead, so the two
//                            compute the same logits
//   masks.safetensors        each pruned matrix's mask as CSR: "<name>.indptr" (I64, rows+1)
//                            and "<name>.indices" (I32, the kept columns, row by row); the
//                            shapes in its metadata as "<name>.shape" = "rows,cols"
//   tokenizer.model, tokenizer_config.json, special_tokens_map.json, generation_config.json
//   journey.json             provenance: the checkpoint's file name (not its local path),
//                            step, cell, run, config, per-matrix sparsity
// Format kSafetensors writes model.safetensors under Journey's own names and unscaled (the
// checkpoint's tensors with masks applied, the config also in its metadata), config.ini (the
// run's config, which rebuilds the model: `journey config --config config.ini`) and
// journey.json.
//
// The checkpoint is verified completely first; a corrupt or edited one is refused. The output
// directory must be new or empty: an export never overwrites files. The files are written
// into a hidden sibling (.NAME.partial-PID) renamed onto the output directory at the end, so
// the directory holds a whole export or none. Errors: DataError naming the file, UsageError
// for an output directory in use.
#pragma once

#include <cstdint>
#include <string>

namespace journey {

enum class ExportFormat { kHuggingFace, kSafetensors };

struct ExportResult {
  int tensors = 0;      // Written to model.safetensors.
  int masks = 0;        // Written to masks.safetensors.
  double sparsity = 0;  // Of the prunable weights.
  int64_t step = 0;
};

ExportResult export_checkpoint(const std::string& checkpoint, const std::string& out_dir,
                               ExportFormat format);

// The Hugging Face name of a Journey parameter ("layers.3.wq" -> "model.layers.3.self_attn.
// q_proj.weight"); DataError for a name the model does not have.
std::string hf_name(const std::string& journey_name);

}  // namespace journey
