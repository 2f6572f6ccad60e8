// The model families: how a block wires the layers of worker/layers.h. Each family is one
// function in its own file over the same 9 parameters (ModelSpec order: attn_norm, wq, wk, wv,
// wo, mlp_norm, w_gate, w_up, w_down), so parameter counts, checkpoints, pruning and FSDP
// units are the same for all; adding a family is one file, one ModelFamily name
// (common/config.h) and one case in block_forward() (worker/model.cpp).
#pragma once

#include <ATen/ATen.h>

#include <vector>

#include "common/config.h"
#include "worker/layers.h"

namespace journey {

// LLaMA-2 (the paper's): h = x + attention(n1(x));  out = h + mlp(n2(h)).
at::Tensor llama_block(const std::vector<at::Tensor>& p, const at::Tensor& x,
                       const ModelConfig& model, const Rope& rope);

// GPT-J / GPT-NeoX parallel residual: out = x + attention(n1(x)) + mlp(n2(x)); both branches
// read the block's input, so their matmuls can run side by side.
at::Tensor parallel_block(const std::vector<at::Tensor>& p, const at::Tensor& x,
                          const ModelConfig& model, const Rope& rope);

}  // namespace journey
