// Parameter counts of the LLaMA-style model from its config alone, summed over the shapes of
// schedules/model_spec.h (the one list of parameters).
//
// "Prunable" is every linear weight, the LM head included: per block the four attention
// projections (4 d^2) and the three SwiGLU matrices (3 d f), plus the head (V d). The paper's
// "total" is prunable plus the token embedding (V d); RMSNorm gains (d per norm, 2 per block
// plus the final one) are counted separately because the paper leaves them out: with them
// the 58M model would be 57.94M rather than the published 57.93M.
#pragma once

#include <cstdint>

#include "common/config.h"

namespace journey {

struct ParamCounts {
  int64_t prunable = 0;   // Linear weights and LM head: what pruning acts on.
  int64_t embedding = 0;  // Token embedding table.
  int64_t norm = 0;       // RMSNorm gains.
  int64_t total() const { return prunable + embedding; }  // The paper's convention.
  int64_t all() const { return prunable + embedding + norm; }
};

ParamCounts count_params(const ModelConfig& model, int64_t vocab_size);

}  // namespace journey
