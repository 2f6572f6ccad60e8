#include "worker/sharded_model.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>
#include <c10/core/GradMode.h>

#include <algorithm>

#include "worker/autocast_scope.h"

namespace journey {

ShardedModel::ShardedModel(const ModelConfig& model, int64_t vocab_size, Collectives& group,
                           at::Device device, Precision precision)
    : model_(model),
      spec_(make_model_spec(model, vocab_size)),
      group_(group),
      device_(device),
      precision_(precision),
      rope_(model, device) {
  const at::ScalarType linear_dtype = precision == Precision::kBf16 ? at::kBFloat16 : at::kFloat;
  for (int u = 0; u < spec_.num_units; ++u) {
    units_.push_back(std::make_unique<ShardedUnit>(spec_, u, group_, device_, linear_dtype));
  }
  set_prefetch(true);
}

void ShardedModel::set_prefetch(bool on) {
  prefetch_ = on;
  for (auto& unit : units_) {
    if (!on) {
      unit->set_backward_handler({});
      continue;
    }
    // Reduce-scatter overlapped with the next unit's backward: wait for the previous unit's
    // (at most one in flight besides this one's), start this one's, free the parameters.
    unit->set_backward_handler([this](ShardedUnit& self, const std::vector<at::Tensor>& grads) {
      finish_pending_reduce();
      self.start_reduce_scatter(grads);
      self.release();
      pending_reduce_ = &self;
    });
  }
}

void ShardedModel::finish_pending_reduce() {
  if (pending_reduce_ == nullptr) return;
  pending_reduce_->finish_reduce_scatter();
  pending_reduce_ = nullptr;
}

void ShardedModel::before_backward(int u) {
  units_[u]->finish_gather();
  if (prefetch_ && u > 0) units_[u - 1]->start_gather();
}

void ShardedModel::initialize(uint64_t seed) {
  c10::AutoGradMode no_grad(false);
  for (auto& unit : units_) {
    for (int s = 0; s < static_cast<int>(unit->slots().size()); ++s) {
      const ShardedUnit::Slot& slot = unit->slots()[s];
      const ParamSpec& param = spec_.params[slot.param];
      at::Tensor full;
      if (param.init_std == 0.0) {
        full = at::ones({slot.rows, slot.row_numel}, at::kFloat);
      } else {
        // One generator per parameter: its values do not depend on any other parameter.
        at::Generator gen = at::detail::createCPUGenerator(seed * 1000003ULL + slot.param);
        full = at::empty({slot.rows, slot.row_numel}, at::kFloat);
        full.normal_(0.0, param.init_std, gen);
      }
      unit->local_rows_of(unit->weights(), s)
          .copy_(full.narrow(0, unit->row_begin(s), unit->local_rows(s)));
    }
  }
}

at::Tensor ShardedModel::unit_forward(int u, const std::vector<at::Tensor>& params,
                                      const at::Tensor& x, const at::Tensor& inputs,
                                      const at::Tensor& targets) {
  if (u == 0) return embed_forward(params[0], inputs);
  if (u == spec_.num_units - 1) {
    return head_loss(params[0], params[1], x, targets, model_.norm_eps);
  }
  return block_forward(params, x, model_, rope_);
}

int64_t micro_batch_count(int64_t rows, int64_t micro_batch_tokens, int64_t seq_len) {
  if (micro_batch_tokens <= 0) return 1;
  const int64_t rows_per_part = std::max<int64_t>(1, micro_batch_tokens / seq_len);
  return std::max<int64_t>(1, (rows + rows_per_part - 1) / rows_per_part);
}

double ShardedModel::forward_backward(const at::Tensor& inputs, const at::Tensor& targets,
                                      double loss_weight, int64_t micro_batches) {
  const at::Tensor loss = forward_backward_queued(inputs, targets, loss_weight, micro_batches);
  group_.synchronize();  // A hung collective hangs in a watched call, not in item().
  return loss.item<double>();
}

at::Tensor ShardedModel::forward_backward_queued(const at::Tensor& host_inputs,
                                                 const at::Tensor& host_targets, double loss_weight,
                                                 int64_t micro_batches) {
  const at::Tensor inputs = host_inputs.to(device_), targets = host_targets.to(device_);
  const int64_t rows = inputs.size(0);
  micro_batches = std::max<int64_t>(1, micro_batches);
  at::Tensor loss = at::zeros({}, inputs.options().dtype(at::kFloat));
  for (int64_t i = 0; i < micro_batches; ++i) {
    // Rows [begin, end) of this rank's share; equal parts within one row.
    const int64_t begin = rows * i / micro_batches, end = rows * (i + 1) / micro_batches;
    for (auto& unit : units_) unit->set_accumulate_grads(i > 0);
    if (end == begin) {
      // More parts than rows: the rank still joins the group's collectives, with its first
      // row at weight 0 (no loss, no gradient).
      micro_step(inputs.narrow(0, 0, 1), targets.narrow(0, 0, 1), 0.0);
      continue;
    }
    const double share = static_cast<double>(end - begin) / static_cast<double>(rows);
    loss.add_(micro_step(inputs.narrow(0, begin, end - begin),
                         targets.narrow(0, begin, end - begin), loss_weight * share),
              share);
  }
  return loss;
}

at::Tensor ShardedModel::micro_step(const at::Tensor& inputs, const at::Tensor& targets,
                                    double loss_weight) {
  const int last = spec_.num_units - 1;
  at::Tensor x;
  {
    // Forward only: backward replays the forward's dtypes by itself.
    const AutocastScope autocast(precision_ == Precision::kBf16, device_);
    for (int u = 0; u <= last; ++u) {
      ShardedUnit& unit = *units_[u];
      unit.finish_gather();
      // Prefetch: the next unit's all-gather runs while this one computes.
      if (prefetch_ && u < last) units_[u + 1]->start_gather();
      std::vector<at::Tensor> params = unit.training_params();
      const bool recompute = activation_checkpointing_ && u > 0 && u < last;
      x = recompute ? checkpointed_block_forward(params, x, model_, rope_)
                    : unit_forward(u, params, x, inputs, targets);
      if (u < last) {
        // Pre-backward: autograd calls this hook when x's gradient arrives, i.e. just before
        // this unit's backward needs its parameters again.
        x.register_hook([this, u](const at::Tensor&) { before_backward(u); });
        unit.release();
      }
    }
  }
  // Backward starts with the last unit, still gathered; the one before it comes next.
  if (prefetch_) units_[last - 1]->start_gather();
  (x * loss_weight).backward();
  finish_pending_reduce();
  return x.detach();
}

double ShardedModel::loss_sum(const at::Tensor& host_inputs, const at::Tensor& host_targets) {
  c10::AutoGradMode no_grad(false);
  const at::Tensor inputs = host_inputs.to(device_), targets = host_targets.to(device_);
  const AutocastScope autocast(precision_ == Precision::kBf16, device_);
  const int last = spec_.num_units - 1;
  at::Tensor x;
  double sum = 0.0;
  for (int u = 0; u <= last; ++u) {
    ShardedUnit& unit = *units_[u];
    unit.finish_gather();
    if (prefetch_ && u < last) units_[u + 1]->start_gather();
    if (inputs.size(0) > 0) {
      x = unit_forward(u, unit.full_params(), x, inputs, targets);
    }
    unit.release();
  }
  group_.synchronize();  // As in forward_backward.
  if (inputs.size(0) > 0) sum = x.item<double>() * static_cast<double>(targets.numel());
  return sum;
}

}  // namespace journey
