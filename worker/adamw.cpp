#include "worker/adamw.h"

#include <c10/core/GradMode.h>

#include <algorithm>

namespace journey {

double AdamW::step(ShardedModel& model, double lr) {
  const at::Tensor norm = mask_gradients(model);
  update(model, lr, norm, norm.isfinite().logical_not());
  return norm.item<double>();
}

at::Tensor AdamW::mask_gradients(ShardedModel& model) {
  c10::AutoGradMode no_grad(false);
  std::vector<at::Tensor> squares;
  for (auto& unit : model.units()) {
    at::Tensor& g = unit->grads();
    const bool has_mask = std::any_of(unit->slots().begin(), unit->slots().end(),
                                      [](const ShardedUnit::Slot& s) { return s.prunable; });
    if (has_mask) g.mul_(unit->mask());  // One pass; the bool mask converts on the fly.
    squares.push_back(g.norm().to(at::kDouble).square());
  }
  at::Tensor sum_squares = at::stack(squares).sum();  // float64, on the device.
  if (model.group().size() > 1) {
    model.group().all_reduce_sum(sum_squares.data_ptr(), 1, ElementType::kFloat64);
  }
  return sum_squares.sqrt().to(at::kFloat);
}

void AdamW::update(ShardedModel& model, double lr, const at::Tensor& grad_norm,
                   const at::Tensor& skip) {
  c10::AutoGradMode no_grad(false);
  ++steps_;
  std::vector<at::Tensor> weights, grads, exp_avgs, exp_avg_sqs, steps;
  if (!step_count_.defined()) step_count_ = at::zeros({}, grad_norm.options().dtype(at::kFloat));
  step_count_.fill_(static_cast<double>(steps_));
  for (auto& unit : model.units()) {
    weights.push_back(unit->weights());
    grads.push_back(unit->grads());
    exp_avgs.push_back(unit->exp_avg());
    exp_avg_sqs.push_back(unit->exp_avg_sq());
    steps.push_back(step_count_);
  }
  if (train_.clip > 0) {
    // clip_grad_norm_'s factor, min(1, clip / (norm + 1e-6)), applied on the device.
    const at::Tensor coef = (train_.clip / (grad_norm + 1e-6)).clamp_max(1.0);
    at::_foreach_mul_(grads, coef);
  }
  at::_fused_adamw_(weights, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps, lr,
                    train_.beta1, train_.beta2, train_.weight_decay, train_.adam_eps,
                    /*amsgrad=*/false, /*maximize=*/false, /*grad_scale=*/std::nullopt,
                    /*found_inf=*/skip.to(at::kFloat));
}

}  // namespace journey
