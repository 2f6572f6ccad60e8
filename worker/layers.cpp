#include "worker/layers.h"

#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cstdint>

#include "worker/kernels.h"

namespace journey {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// out = [x1 cos - sign x2 sin, x2 cos + sign x1 sin] for x = [x1, x2] on the last dimension,
// written into one contiguous tensor. sign = 1 rotates by the RoPE angles, -1 rotates back.
at::Tensor rotate_halves(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                         double sign) {
  const int64_t half = x.size(-1) / 2;
  at::Tensor out = at::empty(x.sizes(), x.options());
  at::Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
  at::Tensor o1 = out.narrow(-1, 0, half), o2 = out.narrow(-1, half, half);
  at::mul_out(o1, x1, cos).addcmul_(x2, sin, -sign);
  at::mul_out(o2, x2, cos).addcmul_(x1, sin, sign);
  return out;
}

// RoPE as one autograd node. A rotation's gradient is the opposite rotation, so backward is
// as cheap as forward, and neither builds the products and concatenation autograd would
// record for the formula. It rotates in the input's dtype (bfloat16 projections under
// train.precision = bf16 stay bfloat16, as attention takes them): `cos` and `sin` come in
// that dtype.
struct RopeFunction : public torch::autograd::Function<RopeFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& cos,
                            const at::Tensor& sin) {
    ctx->saved_data["cos"] = cos;
    ctx->saved_data["sin"] = sin;
    return rotate_halves(x, cos, sin, 1.0);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {rotate_halves(grads[0], ctx->saved_data["cos"].toTensor(),
                          ctx->saved_data["sin"].toTensor(), -1.0),
            at::Tensor(), at::Tensor()};
  }
};

// The LM head and the mean cross-entropy as one autograd node, over chunks of rows, so that
// the logits never exist for the whole batch (65,536 tokens x 32,000 pieces is 8 GiB in
// float32). Because the loss is the graph's last node, its gradients are known in forward:
// per chunk of rows h_c,
//   logits = h_c W^T (in the autocast dtype),  p = softmax(float32(logits)),
//   loss  += sum_i (max_j x_ij - x_{i,t_i}) - log(max_j p_ij)      [= lse_i - x_{i,t_i}]
//   dlogits = (p - onehot(t)) / n,   dh_c = dlogits W,   dW += dlogits^T h_c,
// and backward only scales dh and dW by the incoming gradient (a scalar). The log-sum-exp
// comes from the softmax itself (max_j p_ij = 1 / sum_j exp(x_ij - max x_i) >= 1 / V), which
// halves the exponentials. Under no-grad (evaluation) only the loss is computed.
struct LinearCrossEntropyFunction : public torch::autograd::Function<LinearCrossEntropyFunction> {
  // Rows per chunk: about 2^26 logits (256 MiB in float32) at a time.
  static int64_t chunk_rows(int64_t vocab) {
    return std::max<int64_t>(1, (int64_t{1} << 26) / vocab);
  }

  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& hidden, const at::Tensor& head,
                            const at::Tensor& targets) {
    const bool needs_grad = hidden.requires_grad() || head.requires_grad();
    // The matmul dtype autocast would use for at::linear: one cast of the head per step.
    const at::ScalarType dtype = at::autocast::is_autocast_enabled(hidden.device().type())
                                     ? at::autocast::get_autocast_dtype(hidden.device().type())
                                     : head.scalar_type();
    const at::Tensor w = head.to(dtype), h = hidden.to(dtype);
    const int64_t n = h.size(0), vocab = w.size(0), rows = chunk_rows(vocab);
    at::Tensor loss = at::zeros({}, hidden.options().dtype(at::kFloat));
    at::Tensor grad_h, grad_w;
    if (needs_grad) {
      grad_h = at::empty(h.sizes(), h.options());
      grad_w = at::zeros(w.sizes(), w.options().dtype(at::kFloat));
    }
    for (int64_t begin = 0; begin < n; begin += rows) {
      const int64_t count = std::min(rows, n - begin);
      const at::Tensor h_c = h.narrow(0, begin, count);
      const at::Tensor t_c = targets.narrow(0, begin, count).unsqueeze(1);
      const at::Tensor logits = at::matmul(h_c, w.t()).to(at::kFloat);
      at::Tensor probs = at::softmax(logits, 1);
      const at::Tensor margin = logits.amax(1, /*keepdim=*/true) - logits.gather(1, t_c);
      loss.add_((margin - at::log(probs.amax(1, /*keepdim=*/true))).sum());
      if (!needs_grad) continue;
      subtract_one_at_targets(probs, t_c);
      const at::Tensor d_logits = probs.div_(static_cast<double>(n)).to(dtype);
      at::Tensor grad_h_c = grad_h.narrow(0, begin, count);
      at::mm_out(grad_h_c, d_logits, w);
      // Accumulated in float32 across chunks. Autograd hands it back in the head's dtype: with
      // a bfloat16 head copy (train.precision = bf16) rounded to bfloat16 like every other
      // matrix's gradient, then reduce-scattered in float32 (FSDP2's mixed precision).
      if (dtype == at::kFloat) {
        grad_w.addmm_(d_logits.t(), h_c);
      } else {
        grad_w.add_(at::mm(d_logits.t(), h_c));
      }
    }
    if (needs_grad) ctx->save_for_backward({grad_h, grad_w});
    ctx->saved_data["hidden_dtype"] = static_cast<int64_t>(hidden.scalar_type());
    return loss.div_(static_cast<double>(n));
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    variable_list saved = ctx->get_saved_variables();
    const auto hidden_dtype = static_cast<at::ScalarType>(ctx->saved_data["hidden_dtype"].toInt());
    const at::Tensor& scale = grads[0];
    return {(saved[0] * scale).to(hidden_dtype), saved[1].mul_(scale), at::Tensor()};
  }

  // probs[i, t_i] -= 1: a loop on the host, a scatter elsewhere.
  static void subtract_one_at_targets(at::Tensor& probs, const at::Tensor& column) {
    if (use_cpu_kernel(probs)) {
      float* g = probs.data_ptr<float>();
      const at::Tensor t = column.contiguous();
      const int64_t* idx = t.data_ptr<int64_t>();
      const int64_t n = probs.size(0), vocab = probs.size(1);
      for (int64_t i = 0; i < n; ++i) g[i * vocab + idx[i]] -= 1.0f;
    } else {
      probs.scatter_add_(1, column, at::full(column.sizes(), -1.0f, probs.options()));
    }
  }
};

// RMSNorm as one autograd node, y = (x r) g with r = 1 / sqrt(mean(x^2) + eps) per row:
//   dL/dg = sum over rows of dL/dy * x r;   with u = dL/dy * g,
//   dL/dx = r (u - x r mean(u * x r))
// about half the operations autograd records for the formula.
struct RmsNormFunction : public torch::autograd::Function<RmsNormFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& gain,
                            double eps) {
    at::Tensor r = at::rsqrt((x * x).mean(-1, /*keepdim=*/true) + eps);
    at::Tensor normalized = x * r;
    ctx->save_for_backward({normalized, r, gain});
    return normalized * gain;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    variable_list saved = ctx->get_saved_variables();
    const at::Tensor &normalized = saved[0], &r = saved[1], &gain = saved[2];
    const at::Tensor& grad = grads[0];
    at::Tensor grad_gain = (grad * normalized).reshape({-1, gain.size(0)}).sum(0);
    at::Tensor u = grad * gain;
    at::Tensor projection = (u * normalized).mean(-1, /*keepdim=*/true);
    at::Tensor grad_x = (u - normalized * projection).mul_(r);
    return {grad_x, grad_gain, at::Tensor()};
  }
};
}  // namespace

Rope::Rope(const ModelConfig& model, at::Device device) {
  const int64_t half = model.head_dim() / 2;
  at::Tensor i = at::arange(half, at::kDouble);
  at::Tensor inv_freq = at::pow(model.rope_base, -2.0 * i / model.head_dim());
  at::Tensor pos = at::arange(model.seq_len, at::kDouble);
  at::Tensor angle = at::outer(pos, inv_freq);  // [s, half]
  cos_ = at::cos(angle).to(device, at::kFloat);
  sin_ = at::sin(angle).to(device, at::kFloat);
}

at::Tensor Rope::apply(const at::Tensor& x) const {
  const int64_t s = x.size(2);
  return RopeFunction::apply(x, cos_.narrow(0, 0, s).to(x.scalar_type()),
                             sin_.narrow(0, 0, s).to(x.scalar_type()));
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& gain, double eps) {
  // LibTorch's fused kernel (forward and backward) where it has one (CUDA); on the host the
  // hand-written node, which records fewer operations than at::rms_norm's composite.
  if (!use_cpu_kernel(x)) return at::rms_norm(x, {gain.size(0)}, gain, eps);
  return RmsNormFunction::apply(x, gain, eps);
}

at::Tensor embed_forward(const at::Tensor& table, const at::Tensor& tokens) {
  return at::embedding(table, tokens);
}

at::Tensor causal_attention(const at::Tensor& h, const at::Tensor& wq, const at::Tensor& wk,
                            const at::Tensor& wv, const at::Tensor& wo, const ModelConfig& model,
                            const Rope& rope) {
  const int64_t b = h.size(0), s = h.size(1), heads = model.n_heads, dh = model.head_dim();
  auto split_heads = [&](const at::Tensor& t) {
    return t.view({b, s, heads, dh}).transpose(1, 2);  // [b, heads, s, dh]
  };
  at::Tensor q = rope.apply(split_heads(at::linear(h, wq)));
  at::Tensor k = rope.apply(split_heads(at::linear(h, wk)));
  at::Tensor v = split_heads(at::linear(h, wv));
  // No 1/sqrt(d_head) (scale 1): the query projection was initialised that much smaller.
  // Flash or memory-efficient kernels on a GPU, LibTorch's fused CPU kernel on the host.
  at::Tensor attended = at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, 0.0,
                                                         /*is_causal=*/true, /*scale=*/1.0);
  return at::linear(attended.transpose(1, 2).reshape({b, s, model.d_model}), wo);
}

at::Tensor swiglu_mlp(const at::Tensor& h, const at::Tensor& w_gate, const at::Tensor& w_up,
                      const at::Tensor& w_down) {
  return at::linear(at::silu(at::linear(h, w_gate)) * at::linear(h, w_up), w_down);
}

at::Tensor head_loss(const at::Tensor& final_norm, const at::Tensor& head, const at::Tensor& x,
                     const at::Tensor& targets, double eps) {
  const at::Tensor h = rms_norm(x, final_norm, eps);
  return LinearCrossEntropyFunction::apply(h.reshape({-1, h.size(-1)}), head,
                                           targets.reshape({-1}));
}
}  // namespace journey
