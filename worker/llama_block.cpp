#include "worker/model_families.h"

namespace journey {

at::Tensor llama_block(const std::vector<at::Tensor>& p, const at::Tensor& x,
                       const ModelConfig& model, const Rope& rope) {
  const at::Tensor h =
      x + causal_attention(rms_norm(x, p[0], model.norm_eps), p[1], p[2], p[3], p[4], model, rope);
  return h + swiglu_mlp(rms_norm(h, p[5], model.norm_eps), p[6], p[7], p[8]);
}

}  // namespace journey
