// The layers a decoder is wired from, as plain functions of full parameter tensors
// (schedules/model_spec.h lists them): embedding, RMSNorm, causal multi-head attention with
// RoPE, the SwiGLU MLP, and the LM head with its loss. A model family (worker/
// model_families.h) wires them into a block; the FSDP machinery (worker/sharded_model.h)
// decides where the tensors come from. These functions only compute.
//
//   n(x) = x / sqrt(mean(x^2) + eps) * gain                                   (RMSNorm)
//   attention(h) = Wo softmax(rope(Wq h) rope(Wk h)^T + causal) (Wv h)         per head
//   mlp(h) = W_down (silu(W_gate h) * W_up h)                                  (SwiGLU)
//   loss = cross_entropy(head n_f(x), targets)                                 mean, nats
// The attention logits are NOT divided by sqrt(d_head) (the query weights were initialised
// smaller instead: the MaxText convention), and RoPE uses the half-split rotation
//   rope(x) = [x1 cos - x2 sin, x2 cos + x1 sin],  x = [x1, x2],  angle = pos * base^(-2i/d_head).
// Attention is LibTorch's scaled_dot_product_attention (flash kernels on a GPU); RoPE, the
// host's RMSNorm and the LM head with its loss are custom autograd nodes with hand-written
// backward passes (layers.cpp says what each saves); tests/python/reference_model.py
// implements the same llama model with plain PyTorch operations, and tests/worker_test.cpp
// checks losses and gradients against it.
#pragma once

#include <ATen/ATen.h>

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

// Causal multi-head self-attention of h [b, s, d] with RoPE, projected back by wo: [b, s, d].
at::Tensor causal_attention(const at::Tensor& h, const at::Tensor& wq, const at::Tensor& wk,
                            const at::Tensor& wv, const at::Tensor& wo, const ModelConfig& model,
                            const Rope& rope);

// The SwiGLU MLP of h [b, s, d]: [b, s, d].
at::Tensor swiglu_mlp(const at::Tensor& h, const at::Tensor& w_gate, const at::Tensor& w_up,
                      const at::Tensor& w_down);

// Final norm, LM head and the mean cross-entropy over all tokens in nats (float32), the
// logits computed a chunk of rows at a time.
at::Tensor head_loss(const at::Tensor& final_norm, const at::Tensor& head, const at::Tensor& x,
                     const at::Tensor& targets, double eps);

}  // namespace journey
