// AdamW on the local shards, with global gradient-norm clipping, computing what PyTorch's
// torch.optim.AdamW and clip_grad_norm_ compute, so the Python reference model can check a
// training run step by step:
//   g      = mask * grad                     (pruned weights get no gradient)
//   norm   = sqrt(sum over the group of g^2);  g *= min(1, clip / (norm + 1e-6))
//   w     *= 1 - lr * weight_decay           (decoupled decay, on every parameter as in the
//                                              authors' optax.adamw without a mask)
//   m      = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
//   w     -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// A pruned weight is zero with zero moments and zero gradient, so it stays exactly zero.
//
// The update is LibTorch's fused AdamW kernel (one pass over weights, gradient and moments;
// the same kernel as torch.optim.AdamW(fused=True)), and nothing in mask_gradients() or
// update() waits for the device: the norm, the clipping factor and the decision to skip a
// non-finite step stay tensors on the device until the trainer reads them.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "common/config.h"
#include "worker/sharded_model.h"

namespace journey {

class AdamW {
 public:
  explicit AdamW(const TrainConfig& train) : train_(train) {}

  // One update with learning rate `lr`: mask_gradients() then update(). Returns the global
  // gradient norm before clipping (waiting for it).
  double step(ShardedModel& model, double lr);

  // Collective. Multiplies every gradient by its mask and returns the global norm of the
  // result (before clipping) as a float32 scalar on the model's device.
  at::Tensor mask_gradients(ShardedModel& model);
  // Clips the masked gradients to train.clip using `grad_norm` (mask_gradients()'s result)
  // and applies AdamW to the local shards, unless `skip` (a scalar on the device, nonzero
  // for a step whose loss or norm is not finite) says not to: then nothing changes.
  void update(ShardedModel& model, double lr, const at::Tensor& grad_norm, const at::Tensor& skip);

  int64_t steps_taken() const { return steps_; }
  void set_steps_taken(int64_t steps) { steps_ = steps; }

 private:
  TrainConfig train_;
  int64_t steps_ = 0;
  at::Tensor step_count_;  // steps_ as the float32 tensor the fused kernel reads.
};

}  // namespace journey
