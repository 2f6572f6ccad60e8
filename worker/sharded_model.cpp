#include "worker/sharded_model.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/Generator.h>
#include <c10/core/GradMode.h>

#include <optional>

namespace journey {
namespace {

// bfloat16 autocast on the model's device type while a forward pass runs (the C++ side of
// torch.autocast); nothing when `on` is false.
class AutocastScope {
 public:
  AutocastScope(bool on, at::Device device) : on_(on), cpu_(device.is_cpu()) {
    if (!on_) return;
    if (cpu_) {
      was_enabled_ = at::autocast::is_cpu_enabled();
      at::autocast::set_cpu_enabled(true);
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    } else {
      was_enabled_ = at::autocast::is_enabled();
      at::autocast::set_enabled(true);
      at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    }
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!on_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    if (cpu_) {
      at::autocast::set_cpu_enabled(was_enabled_);
    } else {
      at::autocast::set_enabled(was_enabled_);
    }
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool on_, cpu_, was_enabled_ = false;
};

}  // namespace

ShardedModel::ShardedModel(const ModelConfig& model, int64_t vocab_size, Collectives& group,
                           at::Device device, Precision precision)
    : model_(model),
      spec_(make_model_spec(model, vocab_size)),
      group_(group),
      device_(device),
      precision_(precision),
      rope_(model, device) {
  for (int u = 0; u < spec_.num_units; ++u) {
    units_.push_back(std::make_unique<ShardedUnit>(spec_, u, group_, device_));
  }
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

double ShardedModel::forward_backward(const at::Tensor& host_inputs, const at::Tensor& host_targets,
                                      double loss_weight) {
  const int last = spec_.num_units - 1;
  const at::Tensor inputs = host_inputs.to(device_), targets = host_targets.to(device_);
  at::Tensor x;
  std::optional<AutocastScope> autocast;
  autocast.emplace(precision_ == Precision::kBf16, device_);
  for (int u = 0; u <= last; ++u) {
    ShardedUnit& unit = *units_[u];
    unit.gather();
    std::vector<at::Tensor> params = unit.training_params();
    x = unit_forward(u, params, x, inputs, targets);
    if (u < last) {
      // Pre-backward: autograd calls this hook when x's gradient arrives, i.e. just before
      // this unit's backward needs its parameters again.
      x.register_hook([&unit](const at::Tensor&) { unit.gather(); });
      unit.release();
    }
  }
  autocast.reset();  // Backward replays the forward's dtypes by itself.
  const double local_loss = x.item<double>();
  (x * loss_weight).backward();
  return local_loss;
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
    unit.gather();
    if (inputs.size(0) > 0) {
      x = unit_forward(u, unit.full_params(), x, inputs, targets);
    }
    unit.release();
  }
  if (inputs.size(0) > 0) sum = x.item<double>() * static_cast<double>(targets.numel());
  return sum;
}

}  // namespace journey
