// The forward pass of the LLaMA-2 style decoder, as plain functions of full parameter
// tensors (schedules/model_spec.h lists them). The FSDP machinery (worker/sharded_model.h)
// decides where the tensors come from; these functions only compute.
//
//   x = embed[tokens]                                          [b, s, d]
//   per block:  h = x + Wo attn(rope(Wq n1(x)), rope(Wk n1(x)), Wv n1(x))
//               x = h + W_down (silu(W_gate n2(h)) * W_up n2(h))
//   loss = cross_entropy(head final_norm(x), targets)          mean over tokens
// with n(x) = x / sqrt(mean(x^2) + eps) * gain (RMSNorm), causal multi-head attention whose
// logits q.k are NOT divided by sqrt(d_head) (the query weights were initialised smaller
// instead: the MaxText convention), and RoPE applied with the half-split rotation
//   rope(x) = [x1 cos - x2 sin, x2 cos + x1 sin],  x = [x1, x2],  angle = pos * base^(-2i/d_head).
// Attention is LibTorch's scaled_dot_product_attention (flash kernels on a GPU); RoPE, the
// host's RMSNorm and the LM head with its loss are custom autograd nodes with hand-written
// backward passes (model.cpp says what each saves); tests/python/reference_model.py
// implements the same model with plain PyTorch operations, and tests/worker_test.cpp checks
// losses and gradients against it.
#pragma once

#include <ATen/ATen.h>

#include <vector>

#include "common/config.h"

namespace journey {

// Precomputed RoPE tables for one sequence length.
class Rope {
 public:
  Rope(const ModelConfig& model, at::Device device = at::kCPU);
  // x: [b, heads, s, d_head] with s <= seq_len.
  at::Tensor apply(const at::Tensor& x) const;

 private:
  at::Tensor cos_, sin_;  // [seq_len, d_head / 2]
};

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& gain, double eps);

// tokens: [b, s] int64 -> [b, s, d]
at::Tensor embed_forward(const at::Tensor& table, const at::Tensor& tokens);

// One transformer block; `p` holds its 9 parameters in ModelSpec order
// (attn_norm, wq, wk, wv, wo, mlp_norm, w_gate, w_up, w_down).
at::Tensor block_forward(const std::vector<at::Tensor>& p, const at::Tensor& x,
                         const ModelConfig& model, const Rope& rope);

// block_forward() that saves only its input and recomputes the block in backward
// (train.activation_checkpointing). `model` and `rope` must outlive the backward pass.
at::Tensor checkpointed_block_forward(const std::vector<at::Tensor>& p, const at::Tensor& x,
                                      const ModelConfig& model, const Rope& rope);

// Final norm, LM head and the mean cross-entropy over all tokens in nats (float32), the
// logits computed a chunk of rows at a time.
at::Tensor head_loss(const at::Tensor& final_norm, const at::Tensor& head, const at::Tensor& x,
                     const at::Tensor& targets, double eps);

}  // namespace journey
