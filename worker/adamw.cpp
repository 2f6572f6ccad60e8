#include "worker/adamw.h"

#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>

namespace journey {

double AdamW::step(ShardedModel& model, double lr) {
  const double norm = mask_gradients(model);
  update(model, lr, norm);
  return norm;
}

double AdamW::mask_gradients(ShardedModel& model) {
  c10::AutoGradMode no_grad(false);
  double sum_squares = 0.0;
  for (auto& unit : model.units()) {
    at::Tensor& g = unit->grads();
    const bool has_mask = std::any_of(unit->slots().begin(), unit->slots().end(),
                                      [](const ShardedUnit::Slot& s) { return s.prunable; });
    if (has_mask) g.mul_(unit->mask());  // One pass; the bool mask converts on the fly.
    const double unit_norm = g.norm().item<double>();
    sum_squares += unit_norm * unit_norm;
  }
  model.group().all_reduce_sum(&sum_squares, 1, ElementType::kFloat64);
  return std::sqrt(sum_squares);
}

void AdamW::update(ShardedModel& model, double lr, double grad_norm) {
  c10::AutoGradMode no_grad(false);
  const double clip_coef = train_.clip > 0 ? std::min(1.0, train_.clip / (grad_norm + 1e-6)) : 1.0;
  ++steps_;
  const double bias1 = 1.0 - std::pow(train_.beta1, static_cast<double>(steps_));
  const double bias2_sqrt = std::sqrt(1.0 - std::pow(train_.beta2, static_cast<double>(steps_)));
  for (auto& unit : model.units()) {
    const int64_t n = unit->shard_numel();
    if (!denominator_.defined() || denominator_.numel() < n) {
      denominator_ = at::empty({n}, unit->weights().options());
    }
    at::Tensor& g = unit->grads();
    if (clip_coef < 1.0) g.mul_(clip_coef);
    at::Tensor& w = unit->weights();
    w.mul_(1.0 - lr * train_.weight_decay);
    unit->exp_avg().mul_(train_.beta1).add_(g, 1.0 - train_.beta1);
    unit->exp_avg_sq().mul_(train_.beta2).addcmul_(g, g, 1.0 - train_.beta2);
    at::Tensor denom = denominator_.narrow(0, 0, n);
    at::sqrt_out(denom, unit->exp_avg_sq()).div_(bias2_sqrt).add_(train_.adam_eps);
    w.addcdiv_(unit->exp_avg(), denom, -lr / bias1);
  }
}

}  // namespace journey
