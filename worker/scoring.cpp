#include "worker/scoring.h"

#include <c10/core/GradMode.h>

#include <algorithm>

namespace journey {
namespace {

// About 8k tokens per forward pass keeps activations small.
constexpr int64_t kTokensPerPass = 8192;

// Sum of the loss over stream windows [first, first + count), window w holding the len + 1
// tokens that start at token w * seq_len.
double stream_windows_loss(ShardedModel& model, const TokenShard& stream, int64_t first,
                           int64_t count, int64_t len, int64_t seq_len) {
  std::vector<int64_t> tokens;
  tokens.reserve(static_cast<size_t>(count * (len + 1)));
  for (int64_t w = first; w < first + count; ++w) {
    const uint16_t* window = stream.tokens() + w * seq_len;
    tokens.insert(tokens.end(), window, window + len + 1);
  }
  const WindowBatch batch = window_batch(tokens, count, len);
  return model.loss_sum(batch.inputs, batch.targets);
}

}  // namespace

RowShare row_share(int64_t n, int rank, int ranks) {
  const int64_t first = rank * n / ranks;
  return {first, (rank + 1) * n / ranks - first};
}

WindowBatch window_batch(std::vector<int64_t>& tokens, int64_t rows, int64_t len) {
  at::Tensor all = at::from_blob(tokens.data(), {rows, len + 1}, at::kLong);
  return {all.narrow(1, 0, len), all.narrow(1, 1, len)};
}

double validation_loss(ShardedModel& model, const std::vector<int64_t>& all, int64_t count) {
  c10::AutoGradMode no_grad(false);
  Collectives& group = model.group();
  const int64_t seq_len = model.config().seq_len;
  const RowShare part = row_share(count, group.rank(), group.size());
  std::vector<int64_t> mine(all.begin() + part.first * (seq_len + 1),
                            all.begin() + (part.first + part.count) * (seq_len + 1));
  const WindowBatch batch = window_batch(mine, part.count, seq_len);
  double sums[2] = {model.loss_sum(batch.inputs, batch.targets),
                    static_cast<double>(part.count * seq_len)};
  group.all_reduce_sum(sums, 2, ElementType::kFloat64);
  return sums[0] / sums[1];
}

StreamLoss stream_loss(ShardedModel& model, const TokenShard& stream) {
  c10::AutoGradMode no_grad(false);
  const int64_t seq_len = model.config().seq_len;
  StreamLoss loss;
  loss.predicted = static_cast<int64_t>(stream.size()) - 1;
  if (loss.predicted <= 0) return loss;
  const int64_t full_windows = loss.predicted / seq_len;
  const int64_t per_pass = std::max<int64_t>(1, kTokensPerPass / seq_len);
  for (int64_t first = 0; first < full_windows; first += per_pass) {
    const int64_t count = std::min(per_pass, full_windows - first);
    loss.nats += stream_windows_loss(model, stream, first, count, seq_len, seq_len);
  }
  const int64_t rest = loss.predicted % seq_len;  // The rest, shorter than a window.
  if (rest > 0) loss.nats += stream_windows_loss(model, stream, full_windows, 1, rest, seq_len);
  return loss;
}

}  // namespace journey
