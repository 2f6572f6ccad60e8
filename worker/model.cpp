#include "worker/model.h"

#include <cmath>
#include <limits>

namespace journey {

Rope::Rope(const ModelConfig& model) {
  const int64_t half = model.head_dim() / 2;
  at::Tensor i = at::arange(half, at::kDouble);
  at::Tensor inv_freq = at::pow(model.rope_base, -2.0 * i / model.head_dim());
  at::Tensor pos = at::arange(model.seq_len, at::kDouble);
  at::Tensor angle = at::outer(pos, inv_freq);  // [s, half]
  cos_ = at::cos(angle).to(at::kFloat);
  sin_ = at::sin(angle).to(at::kFloat);
  causal_mask_ = at::full({model.seq_len, model.seq_len},
                          -std::numeric_limits<float>::infinity(), at::kFloat)
                     .triu(1);
}

at::Tensor Rope::apply(const at::Tensor& x) const {
  const int64_t s = x.size(2), half = x.size(3) / 2;
  at::Tensor cos = cos_.narrow(0, 0, s), sin = sin_.narrow(0, 0, s);
  at::Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
  return at::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& gain, double eps) {
  return x * at::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * gain;
}

at::Tensor embed_forward(const at::Tensor& table, const at::Tensor& tokens) {
  return at::embedding(table, tokens);
}

at::Tensor block_forward(const std::vector<at::Tensor>& p, const at::Tensor& x,
                         const ModelConfig& model, const Rope& rope) {
  const int64_t b = x.size(0), s = x.size(1), heads = model.n_heads, dh = model.head_dim();
  auto split_heads = [&](const at::Tensor& t) {
    return t.view({b, s, heads, dh}).transpose(1, 2);  // [b, heads, s, dh]
  };
  at::Tensor h = rms_norm(x, p[0], model.norm_eps);
  at::Tensor q = rope.apply(split_heads(at::linear(h, p[1])));
  at::Tensor k = rope.apply(split_heads(at::linear(h, p[2])));
  at::Tensor v = split_heads(at::linear(h, p[3]));
  // No 1/sqrt(d_head): the query projection was initialised that much smaller.
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)) +
                      rope.causal_mask().narrow(0, 0, s).narrow(1, 0, s);
  at::Tensor attended = at::matmul(at::softmax(scores, -1), v);  // [b, heads, s, dh]
  at::Tensor merged = attended.transpose(1, 2).reshape({b, s, model.d_model});
  at::Tensor x1 = x + at::linear(merged, p[4]);
  at::Tensor h2 = rms_norm(x1, p[5], model.norm_eps);
  at::Tensor gated = at::silu(at::linear(h2, p[6])) * at::linear(h2, p[7]);
  return x1 + at::linear(gated, p[8]);
}

at::Tensor head_loss(const at::Tensor& final_norm, const at::Tensor& head, const at::Tensor& x,
                     const at::Tensor& targets, double eps) {
  at::Tensor logits = at::linear(rms_norm(x, final_norm, eps), head);
  return at::cross_entropy_loss(logits.view({-1, logits.size(-1)}), targets.reshape({-1}));
}

}  // namespace journey
