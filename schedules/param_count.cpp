#include "schedules/param_count.h"

namespace journey {

ParamCounts count_params(const ModelConfig& model, int64_t vocab_size) {
  const int64_t d = model.d_model;
  const int64_t f = model.ffn();
  ParamCounts counts;
  const int64_t per_block = 4 * d * d + 3 * d * f;  // q, k, v, o; gate, up, down.
  counts.prunable = model.n_layers * per_block + vocab_size * d;
  counts.embedding = vocab_size * d;
  counts.norm = (2 * model.n_layers + 1) * d;
  return counts;
}

}  // namespace journey
