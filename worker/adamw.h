// AdamW on the local shards, with global gradient-norm clipping, exactly as PyTorch's
// torch.optim.AdamW (non-foreach) and clip_grad_norm_ compute them, so the Python
// reference model can check a training run step by step:
//   g      = mask * grad                     (pruned weights get no gradient)
//   norm   = sqrt(sum over the group of g^2);  g *= min(1, clip / (norm + 1e-6))
//   w     *= 1 - lr * weight_decay           (decoupled decay, on every parameter as in the
//                                              authors' optax.adamw without a mask)
//   m      = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
//   w     -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// A pruned weight is zero with zero moments and zero gradient, so it stays exactly zero.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

#include "common/config.h"
#include "worker/sharded_model.h"

namespace journey {

class AdamW {
 public:
  explicit AdamW(const TrainConfig& train) : train_(train) {}

  // One update with learning rate `lr`: mask_gradients() then update(). Returns the global
  // gradient norm before clipping.
  double step(ShardedModel& model, double lr);

  // Collective. Multiplies every gradient by its mask and returns the global norm of the
  // result (before clipping). A trainer checks it is finite before calling update().
  double mask_gradients(ShardedModel& model);
  // Clips the masked gradients to train.clip using `grad_norm` (mask_gradients()'s result)
  // and applies AdamW to the local shards.
  void update(ShardedModel& model, double lr, double grad_norm);

  int64_t steps_taken() const { return steps_; }
  void set_steps_taken(int64_t steps) { steps_ = steps; }

 private:
  TrainConfig train_;
  int64_t steps_ = 0;
  at::Tensor denominator_;  // Scratch for sqrt(v) / sqrt(1 - b2^t) + eps, reused every step.
};

}  // namespace journey
