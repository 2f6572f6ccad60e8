#include "worker/model.h"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "worker/kernels.h"

#include <cmath>
#include <limits>

// The Fortran BLAS that LibTorch itself calls (Debian: OpenBLAS behind libblas.so.3).
extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n,
                       const int* k, const float* alpha, const float* a, const int* lda,
                       const float* b, const int* ldb, const float* beta, float* c, const int* ldc);

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
// record for the formula. It rotates in float32 (bfloat16 projections under
// train.precision = bf16 come out float32, as attention wants them) and hands the gradient
// back in the input's dtype.
struct RopeFunction : public torch::autograd::Function<RopeFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& cos,
                            const at::Tensor& sin) {
    ctx->saved_data["cos"] = cos;
    ctx->saved_data["sin"] = sin;
    ctx->saved_data["dtype"] = static_cast<int64_t>(x.scalar_type());
    return rotate_halves(x.to(at::kFloat), cos, sin, 1.0);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto dtype = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
    return {rotate_halves(grads[0].to(at::kFloat), ctx->saved_data["cos"].toTensor(),
                          ctx->saved_data["sin"].toTensor(), -1.0)
                .to(dtype),
            at::Tensor(), at::Tensor()};
  }
};

// out[i] = op(a[i]) op(b[i]) for contiguous [n, rows, cols] float tensors a and b, op being
// the identity or the transpose: one BLAS call per i, the n calls split over the intra-op
// threads. ATen's CPU bmm makes the same BLAS calls one after another, each wrapped in a few
// microseconds of tensor bookkeeping (selects, conjugation checks), and one (sequence, head)
// product of a small model is too small for BLAS to use a second thread, so attention ran on
// one core. (On 32x2x2, seq 64, one thread: 5% of a step against bmm split over threads.)
at::Tensor batched_matmul(const at::Tensor& a, bool transpose_a, const at::Tensor& b,
                          bool transpose_b) {
  if (!use_cpu_kernel(a) || !use_cpu_kernel(b)) {
    // GPUs (and bfloat16 on any device): ATen's batched product, one kernel for the batch.
    return at::bmm(transpose_a ? a.transpose(1, 2) : a, transpose_b ? b.transpose(1, 2) : b);
  }
  const int m = static_cast<int>(transpose_a ? a.size(2) : a.size(1));
  const int k = static_cast<int>(transpose_a ? a.size(1) : a.size(2));
  const int n = static_cast<int>(transpose_b ? b.size(1) : b.size(2));
  at::Tensor out = at::empty({a.size(0), m, n}, a.options());
  // BLAS is column-major, where a row-major matrix reads as its transpose: the row-major
  // product C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T.
  const char op_a = transpose_a ? 'T' : 'N', op_b = transpose_b ? 'T' : 'N';
  const int lda = transpose_a ? m : k, ldb = transpose_b ? k : n;
  const float one = 1.0f, zero = 0.0f;
  const float* pa = a.data_ptr<float>();
  const float* pb = b.data_ptr<float>();
  float* pc = out.data_ptr<float>();
  const int64_t a_step = a.size(1) * a.size(2), b_step = b.size(1) * b.size(2),
                c_step = int64_t{m} * n;
  at::parallel_for(0, a.size(0), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      sgemm_(&op_b, &op_a, &n, &m, &k, &one, pb + i * b_step, &ldb, pa + i * a_step, &lda, &zero,
             pc + i * c_step, &n);
    }
  });
  return out;
}

// Causal attention without a logit scale, out = softmax(q k^T + mask) v for q, k, v
// [b, heads, s, d_head], as one autograd node so that its six batched products (two forward,
// four backward) all use batched_matmul. With P = softmax(...) and dO the output gradient:
//   dV = P^T dO,  dP = dO V^T,  dS = P * (dP - rowsum(dP * P)),  dQ = dS K,  dK = dS^T Q.
struct CausalAttentionFunction : public torch::autograd::Function<CausalAttentionFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k,
                            const at::Tensor& v, const at::Tensor& mask) {
    // In float32 whatever the projections' dtype (train.precision = bf16): the softmax and
    // its gradient need the range, and the CPU path's BLAS takes floats.
    const int64_t pairs = q.size(0) * q.size(1), s = q.size(2), dh = q.size(3);
    at::Tensor q3 = q.reshape({pairs, s, dh}).to(at::kFloat).contiguous();
    at::Tensor k3 = k.reshape({pairs, s, dh}).to(at::kFloat).contiguous();
    at::Tensor v3 = v.reshape({pairs, s, dh}).to(at::kFloat).contiguous();
    at::Tensor probs = at::softmax(batched_matmul(q3, false, k3, true).add_(mask), -1);
    ctx->save_for_backward({q3, k3, v3, probs});
    ctx->saved_data["dtype"] = static_cast<int64_t>(q.scalar_type());
    return batched_matmul(probs, false, v3, false).view(q.sizes()).to(q.scalar_type());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    variable_list saved = ctx->get_saved_variables();
    const at::Tensor &q3 = saved[0], &k3 = saved[1], &v3 = saved[2], &probs = saved[3];
    const auto dtype = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
    at::Tensor d_out = grads[0].reshape(q3.sizes()).to(at::kFloat).contiguous();
    at::Tensor d_v = batched_matmul(probs, true, d_out, false);
    at::Tensor d_probs = batched_matmul(d_out, false, v3, true);
    at::Tensor d_scores = at::_softmax_backward_data(d_probs, probs, -1, at::kFloat);
    at::Tensor d_q = batched_matmul(d_scores, false, k3, false);
    at::Tensor d_k = batched_matmul(d_scores, true, q3, false);
    const at::IntArrayRef shape = grads[0].sizes();
    return {d_q.view(shape).to(dtype), d_k.view(shape).to(dtype), d_v.view(shape).to(dtype),
            at::Tensor()};
  }
};

// Mean cross-entropy of logits [n, V] against targets [n], with the softmax saved for
// backward: d loss / d logits = (softmax - onehot(targets)) / n needs no further exp. The
// log-sum-exp comes from the same softmax: its row maximum is 1 / sum_j exp(x_j - max x), so
//   loss_i = lse_i - x_{i,t} = (max_j x_ij - x_{i,t}) - log(max_j p_ij),
// with max_j p_ij >= 1 / V (no underflow). Against at::cross_entropy_loss this halves the
// exponentials of the largest tensor of a small model.
struct CrossEntropyFunction : public torch::autograd::Function<CrossEntropyFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& logits,
                            const at::Tensor& targets) {
    at::Tensor probs = at::softmax(logits, 1);
    at::Tensor column = targets.unsqueeze(1);
    at::Tensor margin = logits.amax(1, /*keepdim=*/true) - logits.gather(1, column);
    at::Tensor loss = (margin - at::log(probs.amax(1, /*keepdim=*/true))).mean();
    ctx->save_for_backward({probs, targets});
    return loss;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    variable_list saved = ctx->get_saved_variables();
    at::Tensor grad = saved[0];  // The softmax, consumed in place: backward runs once.
    const at::Tensor& targets = saved[1];
    const int64_t n = grad.size(0), vocab = grad.size(1);
    if (use_cpu_kernel(grad)) {
      float* g = grad.data_ptr<float>();
      const int64_t* t = targets.data_ptr<int64_t>();
      for (int64_t i = 0; i < n; ++i) g[i * vocab + t[i]] -= 1.0f;
    } else {
      at::Tensor column = targets.unsqueeze(1);
      grad.scatter_add_(1, column, at::full(column.sizes(), -1.0f, grad.options()));
    }
    grad.mul_(grads[0] / static_cast<double>(n));
    return {grad, at::Tensor()};
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
  causal_mask_ =
      at::full({model.seq_len, model.seq_len}, -std::numeric_limits<float>::infinity(), at::kFloat)
          .triu(1)
          .to(device);
}

at::Tensor Rope::apply(const at::Tensor& x) const {
  const int64_t s = x.size(2);
  return RopeFunction::apply(x, cos_.narrow(0, 0, s), sin_.narrow(0, 0, s));
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& gain, double eps) {
  return RmsNormFunction::apply(x, gain, eps);
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
  at::Tensor attended = CausalAttentionFunction::apply(
      q, k, v, rope.causal_mask().narrow(0, 0, s).narrow(1, 0, s));  // [b, heads, s, dh]
  at::Tensor merged = attended.transpose(1, 2).reshape({b, s, model.d_model});
  at::Tensor x1 = x + at::linear(merged, p[4]);
  at::Tensor h2 = rms_norm(x1, p[5], model.norm_eps);
  at::Tensor gated = at::silu(at::linear(h2, p[6])) * at::linear(h2, p[7]);
  return x1 + at::linear(gated, p[8]);
}

at::Tensor head_loss(const at::Tensor& final_norm, const at::Tensor& head, const at::Tensor& x,
                     const at::Tensor& targets, double eps) {
  // The loss in float32 even when the head's matmul ran in bfloat16 (train.precision).
  at::Tensor logits = at::linear(rms_norm(x, final_norm, eps), head).to(at::kFloat);
  return CrossEntropyFunction::apply(logits.view({-1, logits.size(-1)}),
                                     targets.reshape({-1}).contiguous());
}

}  // namespace journey
