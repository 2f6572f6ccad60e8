// `journey import`: a Hugging Face Llama folder as a Journey checkpoint, so that a released
// model (or one of our own exports) can be scored with `journey eval` and trained on with
// `journey train` (docs/model-semantics.md, "Importing").
//
// The folder:
//   model.safetensors   the weights under Hugging Face names (F32, BF16 or F16; converted to
//                       float32 exactly). Every tensor must map to a Journey parameter and
//                       every parameter must be present, at the shape the config gives it; a
//                       bias, a tied head or any other tensor is refused by name. Sharded
//                       models (model.safetensors.index.json) are not read.
//   journey.json        when present (written by `journey export`), its stored config is used
//                       exactly, with its step, cell_id and run_id, and its tokenizer_hash must
//                       match tokenizer.model. config.json is then not read.
//   config.json         otherwise: a LlamaConfig. hidden_size, num_hidden_layers,
//                       num_attention_heads, intermediate_size, vocab_size, rms_norm_eps,
//                       rope_theta (or transformers 5's rope_parameters, default rope_type
//                       only) and max_position_embeddings (as model.seq_len) become the
//                       model's config (the rest of it, the training settings, comes from
//                       `config_path` or the defaults; a [model] key set there, i.e. not at
//                       its default, that contradicts config.json is a UsageError, except
//                       model.seq_len, which may shorten the context). What Journey's Llama cannot
//                       express is refused naming the key: tie_word_embeddings, num_key_value_heads
//                       != num_attention_heads, attention_bias, mlp_bias, rope_scaling, a
//                       hidden_act other than silu, a head_dim other than hidden_size /
//                       num_attention_heads, a model_type other than llama.
//   masks.safetensors   optional: each prunable matrix's mask as CSR, as the export writes it
//                       ("<hf name>.indptr", "<hf name>.indices", "<hf name>.shape" metadata).
//                       Absent: every mask is all ones (a dense model). Weights where a mask is
//                       0 must be zero (DataError naming the tensor otherwise).
//   tokenizer.model     required: the SentencePiece model, stored in the checkpoint
//                       (state/tokenizer_model) with tokenizer_hash = its SHA-256, the digest
//                       datasets record, so `journey eval` needs only the checkpoint and
//                       `journey train` resumes only against a dataset of the same tokenizer.
//
// q_proj is divided by sqrt(d_head): the export multiplied it in because Hugging Face scales
// attention logits by d_head^-1/2 and Journey folds that scale into wq. When sqrt(d_head) is a
// power of two this is exact; otherwise each value is a float32 x with fl(x * s) equal to
// the stored y (y / s itself when it is one), which recovers an exported wq bit for bit
// wherever the multiplication was one-to-one; where two adjacent x gave the same y (a few
// values in a thousand for d_head = 12), the one recovered may be 1 ulp off the original.
//
// The checkpoint (io/checkpoint_file.h) holds params, masks, zero AdamW moments with
// adam_steps 0 (an export carries no optimiser state, so a continued run restarts AdamW's
// moments), an empty history (the exported run's per-step series are not exported: metrics
// of a continued run start at the imported step), keep = the kept fraction,
// tokens_seen = step * train.batch_tokens, and the tokenizer. A foreign model is step 0,
// cell_id = the folder's name and a new random run_id.
//
// `out`: a path ending in ".h5" is the checkpoint file itself; anything else is a run
// directory, and the file is out/checkpoints/ckpt-<step>.h5, where `journey train --out out`
// (with the same training config and a dataset of the same tokenizer) resumes from it; a
// directory whose checkpoints/ already holds checkpoints is refused (UsageError). The
// file is written atomically (nothing at its name until complete) and never overwrites: an
// existing file there is a UsageError.
//
// Errors: UsageError for what the user can change (a used --out, a model Journey cannot
// express); DataError naming the file and tensor for missing, corrupt or inconsistent files.
#pragma once

#include <cstdint>
#include <string>

namespace journey {

struct ImportResult {
  std::string checkpoint;       // The file written.
  bool journey_export = false;  // Whether journey.json supplied the config.
  int64_t step = 0;
  int tensors = 0;
  int masks_from_file = 0;  // Masks read from masks.safetensors (the rest are all ones).
  double sparsity = 0;      // Of the prunable weights.
};

// `config_path`: an INI file of training settings for a folder without journey.json ("" for
// the defaults); refused (UsageError) for a folder with one, whose config is used exactly.
ImportResult import_hf_folder(const std::string& hf_dir, const std::string& out,
                              const std::string& config_path);

}  // namespace journey
