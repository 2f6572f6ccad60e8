#include "worker/adamw.h"

#include <c10/core/GradMode.h>

#include <cmath>

namespace journey {

double AdamW::step(ShardedModel& model, double lr) {
  c10::AutoGradMode no_grad(false);
  double sum_squares = 0.0;
  for (auto& unit : model.units()) {
    at::Tensor& g = unit->grads();
    g.masked_fill_(unit->mask().logical_not(), 0.0f);
    sum_squares += g.pow(2).sum().item<double>();
  }
  model.group().all_reduce_sum(&sum_squares, 1, ElementType::kFloat64);
  const double norm = std::sqrt(sum_squares);
  const double clip_coef = train_.clip > 0 ? std::min(1.0, train_.clip / (norm + 1e-6)) : 1.0;

  ++steps_;
  const double bias1 = 1.0 - std::pow(train_.beta1, static_cast<double>(steps_));
  const double bias2_sqrt = std::sqrt(1.0 - std::pow(train_.beta2, static_cast<double>(steps_)));
  for (auto& unit : model.units()) {
    at::Tensor& g = unit->grads();
    if (clip_coef < 1.0) g.mul_(clip_coef);
    at::Tensor& w = unit->weights();
    w.mul_(1.0 - lr * train_.weight_decay);
    unit->exp_avg().mul_(train_.beta1).add_(g, 1.0 - train_.beta1);
    unit->exp_avg_sq().mul_(train_.beta2).addcmul_(g, g, 1.0 - train_.beta2);
    at::Tensor denom = (unit->exp_avg_sq().sqrt() / bias2_sqrt).add_(train_.adam_eps);
    w.addcdiv_(unit->exp_avg(), denom, -lr / bias1);
  }
  return norm;
}

}  // namespace journey
