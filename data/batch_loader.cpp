#include "data/batch_loader.h"

#include <cassert>
#include <string>

#include "common/error.h"
#include "data/window_permutation.h"

namespace journey {
namespace {

// Windows of seq_len + 1 tokens starting every seq_len tokens in a stream of `tokens`.
int64_t windows_in(int64_t tokens, int64_t seq_len) {
  return tokens > seq_len ? (tokens - 1) / seq_len : 0;
}

void copy_window(const TokenShard& shard, int64_t window, int64_t seq_len, int64_t* out) {
  const uint16_t* tokens = shard.tokens() + window * seq_len;
  for (int64_t i = 0; i <= seq_len; ++i) out[i] = tokens[i];
}

}  // namespace

BatchLoader::BatchLoader(const TokenShard& train, int64_t seq_len, int64_t sequences_per_step,
                         uint64_t seed)
    : train_(train),
      seq_len_(seq_len),
      sequences_per_step_(sequences_per_step),
      seed_(seed),
      windows_(windows_in(train.size(), seq_len)) {
  assert(seq_len > 0 && sequences_per_step > 0);
  if (windows_ == 0) {
    throw DataError("training shard " + train.path() + " holds " + std::to_string(train.size()) +
                    " tokens, fewer than one sequence of model.seq_len + 1 = " +
                    std::to_string(seq_len + 1) + " (prepare more data or lower model.seq_len)");
  }
}

uint64_t BatchLoader::epoch_key(uint64_t epoch) const {
  return mix64(mix64(seed_) ^ (epoch * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL));
}

int64_t BatchLoader::window_of(int64_t step, int64_t position) const {
  assert(step >= 0 && position >= 0 && position < sequences_per_step_);
  const uint64_t g = static_cast<uint64_t>(step) * sequences_per_step_ + position;
  const uint64_t n = static_cast<uint64_t>(windows_);
  return static_cast<int64_t>(WindowPermutation(n, epoch_key(g / n))(g % n));
}

void BatchLoader::fill(int64_t step, int64_t first, int64_t count, int64_t* out) const {
  assert(step >= 0 && first >= 0 && count >= 0 && first + count <= sequences_per_step_);
  const uint64_t n = static_cast<uint64_t>(windows_);
  uint64_t g = static_cast<uint64_t>(step) * sequences_per_step_ + first;
  // Consecutive sequences share an epoch except at its boundary: build its permutation once.
  uint64_t epoch = g / n;
  WindowPermutation permutation(n, epoch_key(epoch));
  for (int64_t i = 0; i < count; ++i, ++g) {
    if (g / n != epoch) {
      epoch = g / n;
      permutation = WindowPermutation(n, epoch_key(epoch));
    }
    copy_window(train_, static_cast<int64_t>(permutation(g % n)), seq_len_,
                out + i * (seq_len_ + 1));
  }
}

double BatchLoader::epochs_after(int64_t steps) const {
  return static_cast<double>(steps) * static_cast<double>(sequences_per_step_) /
         static_cast<double>(windows_);
}

namespace {

void check_validation_fits(const TokenShard& val, int64_t seq_len, int64_t count) {
  const int64_t n = windows_in(val.size(), seq_len);
  if (n < count) {
    throw DataError("validation shard " + val.path() + " holds " + std::to_string(val.size()) +
                    " tokens, enough for " + std::to_string(n) +
                    " sequences of model.seq_len + 1 = " + std::to_string(seq_len + 1) +
                    " tokens, but " + std::to_string(count) +
                    " are needed (lower train.eval_sequences, or prepare with a larger "
                    "data.val_fraction)");
  }
}

}  // namespace

std::vector<int64_t> validation_sequences(const TokenShard& val, int64_t seq_len, int64_t count) {
  assert(seq_len > 0 && count > 0);
  check_validation_fits(val, seq_len, count);
  const int64_t n = windows_in(val.size(), seq_len);
  std::vector<int64_t> out(static_cast<size_t>(count * (seq_len + 1)));
  for (int64_t i = 0; i < count; ++i) {
    const auto window = static_cast<int64_t>(static_cast<unsigned __int128>(i) * n / count);
    copy_window(val, window, seq_len, out.data() + i * (seq_len + 1));
  }
  return out;
}

void check_shards_fit(const TokenShard& train, const TokenShard& val, int64_t seq_len,
                      int64_t eval_sequences) {
  try {
    BatchLoader(train, seq_len, 1, 0);  // Throws for a train shard shorter than one window.
    check_validation_fits(val, seq_len, eval_sequences);
  } catch (const DataError& e) {
    throw UsageError(e.what());
  }
}

}  // namespace journey
