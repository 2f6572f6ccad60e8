// Token windows as model inputs, and scoring them: the validation loss the law fits (the
// trainer) and the loss of any text (`journey eval`). One place for both, so they cannot
// drift apart.
//
// A window is seq_len + 1 consecutive tokens: the first seq_len are inputs, the last
// seq_len the targets (the inputs shifted by one).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "io/token_shard.h"
#include "worker/sharded_model.h"

namespace journey {

// Rank r's rows [first, first + count) of n rows split over `ranks` ranks as evenly as
// possible (the first ranks never get fewer).
struct RowShare {
  int64_t first = 0, count = 0;
};
RowShare row_share(int64_t n, int rank, int ranks);

// `tokens` holds `rows` windows of len + 1 tokens, row-major; the tensors view it (no copy),
// so it must outlive them.
struct WindowBatch {
  at::Tensor inputs, targets;  // [rows, len] int64
};
WindowBatch window_batch(std::vector<int64_t>& tokens, int64_t rows, int64_t len);

// Collective over the model's group: the mean loss, in nats per token, of the validation
// windows (data/batch_loader.h validation_sequences: `count` rows of seq_len + 1 tokens),
// each rank scoring its share.
double validation_loss(ShardedModel& model, const std::vector<int64_t>& windows, int64_t count);

// The loss of a whole token stream on one process: windows of seq_len + 1 tokens starting
// every seq_len tokens, the last one shorter if the stream ends sooner, so every token but the
// first is predicted exactly once with up to seq_len tokens of context.
struct StreamLoss {
  double nats = 0;        // Summed over predicted tokens.
  int64_t predicted = 0;  // Tokens predicted: the stream's length - 1.
};
StreamLoss stream_loss(ShardedModel& model, const TokenShard& stream);

}  // namespace journey
