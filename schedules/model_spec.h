// The parameters of the LLaMA-2 style model, by name, without any tensor: their shapes,
// which FSDP unit gathers them, whether pruning acts on them, and how they are initialised.
//
// Names (also the dataset names in checkpoints, see docs/checkpoint-format.md):
//   embed                          [V, d]   token embedding          (not prunable)
//   layers.<i>.attn_norm           [d]      RMSNorm gain             (not prunable)
//   layers.<i>.wq, wk, wv, wo      [d, d]   attention projections    (prunable)
//   layers.<i>.mlp_norm            [d]      RMSNorm gain             (not prunable)
//   layers.<i>.w_gate, w_up        [f, d]   SwiGLU input matrices    (prunable)
//   layers.<i>.w_down              [d, f]   SwiGLU output matrix     (prunable)
//   final_norm                     [d]      RMSNorm gain             (not prunable)
//   head                           [V, d]   untied LM head           (prunable)
// Linear weights are stored [out, in] as in torch.nn.Linear, so dim 0 (the FSDP shard
// dimension) is the output dimension.
//
// Initialisation follows the authors' MaxText code: linear weights N(0, 1/fan_in), the query
// projection additionally divided by sqrt(d_head) because attention logits are NOT scaled by
// 1/sqrt(d_head) at run time; embeddings N(0, 1/d); norm gains 1. Because the pruning
// threshold is global, these scales decide which matrices lose weights first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"

namespace journey {

struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  int unit = 0;  // 0: embedding, 1..L: blocks, L+1: final norm and head.
  bool prunable = false;
  double init_std = 0.0;  // 0 means "initialise to ones" (norm gains).

  int64_t rows() const { return shape[0]; }
  int64_t numel() const;
};

struct ModelSpec {
  std::vector<ParamSpec> params;  // In unit order, then the order above.
  int num_units = 0;

  int64_t prunable_count() const;
  // Indices into `params` of the parameters of one unit, in order.
  std::vector<int> unit_params(int unit) const;
};

ModelSpec make_model_spec(const ModelConfig& model, int64_t vocab_size);

// Whether `name` matches one of the glob patterns (fnmatch(3): *, ?, [...]), e.g. "*.wq".
bool matches_any_pattern(const std::string& name, const std::vector<std::string>& patterns);

// The prunable parameters excluded from pruning by prune.exclude (common/config.h), as a flag
// per entry of spec.params. Throws UsageError naming prune.exclude when a pattern matches no
// prunable parameter (a typo would otherwise exclude nothing, silently).
std::vector<bool> excluded_params(const ModelSpec& spec, const std::string& exclude);

}  // namespace journey
