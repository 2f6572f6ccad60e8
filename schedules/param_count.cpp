#include "schedules/param_count.h"

#include "schedules/model_spec.h"

namespace journey {

ParamCounts count_params(const ModelConfig& model, int64_t vocab_size) {
  ParamCounts counts;
  for (const ParamSpec& p : make_model_spec(model, vocab_size).params) {
    if (p.prunable) {
      counts.prunable += p.numel();
    } else if (p.shape.size() == 1) {
      counts.norm += p.numel();  // RMSNorm gains are the only vectors.
    } else {
      counts.embedding += p.numel();  // The token embedding is the only other matrix.
    }
  }
  return counts;
}

}  // namespace journey
