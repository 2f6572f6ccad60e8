// The model: embedding, n_layers blocks wired as model.family says (worker/
// model_families.h), final norm, LM head and loss, from the layers of worker/layers.h.
//
//   x = embed[tokens]                                          [b, s, d]
//   per block:  x = block_<family>(x)                          (llama: sequential residuals)
//   loss = cross_entropy(head final_norm(x), targets)          mean over tokens
#pragma once

#include <ATen/ATen.h>

#include <vector>

#include "common/config.h"
#include "worker/layers.h"

namespace journey {

// One transformer block of model.family; `p` holds its 9 parameters in ModelSpec order
// (attn_norm, wq, wk, wv, wo, mlp_norm, w_gate, w_up, w_down).
at::Tensor block_forward(const std::vector<at::Tensor>& p, const at::Tensor& x,
                         const ModelConfig& model, const Rope& rope);

// block_forward() that saves only its input and recomputes the block in backward
// (train.activation_checkpointing). `model` and `rope` must outlive the backward pass.
at::Tensor checkpointed_block_forward(const std::vector<at::Tensor>& p, const at::Tensor& x,
                                      const ModelConfig& model, const Rope& rope);

}  // namespace journey
