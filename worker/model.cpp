#include "worker/model.h"

#include <ATen/autocast_mode.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cstdint>

#include "worker/autocast_scope.h"
#include "worker/model_families.h"

namespace journey {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// One transformer block that keeps only its input for backward and runs its forward again
// there (activation checkpointing): memory for activations drops from every block's to one
// block's, for a third more matmul work. The recomputation runs under the autocast state
// the forward had, on parameters the FSDP pre-backward hook has gathered again.
struct CheckpointedBlockFunction : public torch::autograd::Function<CheckpointedBlockFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, at::TensorList params,
                            const ModelConfig* model, const Rope* rope) {
    std::vector<at::Tensor> saved{x};
    saved.insert(saved.end(), params.begin(), params.end());
    ctx->save_for_backward(saved);
    ctx->saved_data["model"] = reinterpret_cast<int64_t>(model);
    ctx->saved_data["rope"] = reinterpret_cast<int64_t>(rope);
    const at::DeviceType type = x.device().type();
    ctx->saved_data["autocast"] = at::autocast::is_autocast_enabled(type);
    return block_forward(params.vec(), x, *model, *rope);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto* model = reinterpret_cast<const ModelConfig*>(ctx->saved_data["model"].toInt());
    const auto* rope = reinterpret_cast<const Rope*>(ctx->saved_data["rope"].toInt());
    variable_list inputs;
    for (const at::Tensor& t : ctx->get_saved_variables()) {
      inputs.push_back(t.detach().requires_grad_(true));
    }
    const std::vector<at::Tensor> params(inputs.begin() + 1, inputs.end());
    variable_list result;
    {
      c10::AutoGradMode grad_mode(true);
      const AutocastScope autocast(ctx->saved_data["autocast"].toBool(), inputs[0].device());
      const at::Tensor out = block_forward(params, inputs[0], *model, *rope);
      result = torch::autograd::grad({out}, inputs, {grads[0]});
    }
    result.push_back(at::Tensor());  // model
    result.push_back(at::Tensor());  // rope
    return result;
  }
};
}  // namespace

at::Tensor block_forward(const std::vector<at::Tensor>& p, const at::Tensor& x,
                         const ModelConfig& model, const Rope& rope) {
  switch (model.family) {
    case ModelFamily::kLlama:
      return llama_block(p, x, model, rope);
    case ModelFamily::kParallel:
      return parallel_block(p, x, model, rope);
  }
  return llama_block(p, x, model, rope);
}

at::Tensor checkpointed_block_forward(const std::vector<at::Tensor>& p, const at::Tensor& x,
                                      const ModelConfig& model, const Rope& rope) {
  return CheckpointedBlockFunction::apply(x, at::TensorList(p), &model, &rope);
}

}  // namespace journey
