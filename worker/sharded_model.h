// The model as a list of FSDP units (worker/sharded_unit.h) over one worker group, with
// initialisation and the two passes a trainer needs.
//
// forward_backward() walks the units in order: gather a unit, compute with it, free it
// (registering a hook that gathers it again when backward reaches it), and finally
// backpropagates the loss; each unit's gradients are reduce-scattered as soon as autograd
// completes them.
//
// With prefetch (train.fsdp_prefetch, the default) communication overlaps computation as in
// FSDP2: the next unit's all-gather is started before the current unit computes (forward:
// unit u + 1 while u runs; backward: u - 1 while u runs), and each unit's reduce-scatter
// runs during the next unit's backward, waited for when the one after it starts and at the
// end of backward. Alive at once: at most two units' full parameters (the computing one and
// the prefetched one), the receive buffer of the gather in flight (as large again) and one
// unit's float32 gradient send buffer; without prefetch, one unit's full parameters and one
// receive or send buffer at a time. The results are those without prefetch: the same
// operations on the same data (a backend may sum the reduce-scatter in another order, a
// rounding difference). Every
// rank passes its own part of the global batch; `loss_weight` = local tokens / global tokens makes
// the summed gradients exactly those of the mean loss over the global batch, whatever the number of
// ranks.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "common/collectives.h"
#include "common/config.h"
#include "schedules/model_spec.h"
#include "worker/model.h"
#include "worker/sharded_unit.h"

namespace journey {

// How many micro-batches a rank's share of `rows` sequences of `seq_len` tokens takes at
// train.micro_batch_tokens = `micro_batch_tokens` (0: the whole share at once). A group passes
// the count of its largest share, so that every rank runs the same collectives.
int64_t micro_batch_count(int64_t rows, int64_t micro_batch_tokens, int64_t seq_len);

class ShardedModel {
 public:
  // Parameters, state and activations live on `device` (worker/device.h); inputs may come
  // from the host. With Precision::kBf16 the forward passes run under bfloat16 autocast and
  // the linear weights are gathered as bfloat16 copies (worker/sharded_unit.h), so the
  // matmuls run in bfloat16; the norms, the residual stream, the softmax of the loss and
  // every gradient handed to the optimizer stay float32.
  ShardedModel(const ModelConfig& model, int64_t vocab_size, Collectives& group,
               at::Device device = at::kCPU, Precision precision = Precision::kFp32);
  // The units' backward handlers and hooks point at the model: it stays where it was made.
  ShardedModel(const ShardedModel&) = delete;
  ShardedModel& operator=(const ShardedModel&) = delete;

  // Draws every parameter from its own generator seeded by (seed, parameter index), so the
  // initial weights are identical for any group size.
  void initialize(uint64_t seed);

  // inputs, targets: [b_local, s] int64 with b_local >= 1 (the trainer refuses groups
  // larger than the batch). Returns the local mean loss; gradients land in each unit's
  // grads(). `micro_batches` > 1 runs the rows in that many nearly equal parts, one forward
  // and backward each, accumulating the gradients (the same result within float rounding,
  // with the activations of one part alive at a time); every rank of the group must pass
  // the same number.
  double forward_backward(const at::Tensor& inputs, const at::Tensor& targets, double loss_weight,
                          int64_t micro_batches = 1);
  // The same, returning the loss as a float32 scalar on the device without waiting for it:
  // on a GPU the host queues the whole step and reads the loss once, at its end.
  at::Tensor forward_backward_queued(const at::Tensor& inputs, const at::Tensor& targets,
                                     double loss_weight, int64_t micro_batches = 1);
  // Recompute each block's activations in backward instead of keeping them
  // (train.activation_checkpointing).
  void set_activation_checkpointing(bool on) { activation_checkpointing_ = on; }
  // Overlap gathers and reduce-scatters with computation (train.fsdp_prefetch; on by default).
  void set_prefetch(bool on);
  // Sum over tokens of the loss, without gradients (0 for an empty batch; the rank still
  // joins every gather).
  double loss_sum(const at::Tensor& inputs, const at::Tensor& targets);

  const ModelConfig& config() const { return model_; }
  const ModelSpec& spec() const { return spec_; }
  std::vector<std::unique_ptr<ShardedUnit>>& units() { return units_; }
  Collectives& group() { return group_; }
  at::Device device() const { return device_; }

 private:
  // One forward and backward of `inputs` on the device, gradients scaled by `loss_weight`.
  at::Tensor micro_step(const at::Tensor& inputs, const at::Tensor& targets, double loss_weight);
  at::Tensor unit_forward(int u, const std::vector<at::Tensor>& params, const at::Tensor& x,
                          const at::Tensor& inputs, const at::Tensor& targets);
  // Backward reaches unit u: its parameters are needed now, the previous unit's next.
  void before_backward(int u);
  void finish_pending_reduce();

  ModelConfig model_;
  ModelSpec spec_;
  Collectives& group_;
  at::Device device_;
  Precision precision_;
  Rope rope_;
  bool activation_checkpointing_ = false;
  bool prefetch_ = true;
  ShardedUnit* pending_reduce_ = nullptr;  // The unit whose reduce-scatter is in flight.
  std::vector<std::unique_ptr<ShardedUnit>> units_;
};

}  // namespace journey
