// Training batches and the fixed validation set, as pure functions of their arguments. Torch-free.
//
// The training stream (the train shard's tokens, documents separated by BOS) is cut into
// windows of seq_len + 1 tokens that start every seq_len tokens: window w holds tokens
// [w * seq_len, w * seq_len + seq_len + 1) (inputs and their shifted targets; each token is
// a target exactly once per epoch), and there are n = (tokens - 1) / seq_len windows.
// Sequence `position` of the global batch of `step` is
//   g = step * sequences_per_step + position,  epoch = g / n,
//   window = WindowPermutation(n, key(seed, epoch))(g % n),
// so each epoch visits every window exactly once in a seeded order, and a sequence depends on
// nothing but (seed, step, position): resuming at any step reproduces an uninterrupted run,
// and ranks that share a global batch (each filling its own [first, first + count)) read
// exactly the sequences one rank would.
//
// Errors: a train shard shorter than one window, or a validation shard with fewer windows
// than requested, is a DataError naming the shard. Bad step/position arguments are
// programming errors (asserted).
#pragma once

#include <cstdint>
#include <vector>

#include "io/token_shard.h"

namespace journey {

class BatchLoader {
 public:
  // `train` outlives the loader. seq_len: tokens per input; each sequence holds seq_len + 1
  // tokens (inputs and shifted targets).
  BatchLoader(const TokenShard& train, int64_t seq_len, int64_t sequences_per_step, uint64_t seed);

  // Writes sequences [first, first + count) of the global batch of `step` into out
  // (count * (seq_len + 1) int64 tokens, row-major).
  void fill(int64_t step, int64_t first, int64_t count, int64_t* out) const;

  // Epochs of the training stream consumed after `steps` steps.
  double epochs_after(int64_t steps) const;

  // The window (index into the stream's windows) that sequence `position` of `step` reads.
  int64_t window_of(int64_t step, int64_t position) const;
  int64_t window_count() const { return windows_; }
  int64_t seq_len() const { return seq_len_; }
  int64_t sequences_per_step() const { return sequences_per_step_; }

 private:
  uint64_t epoch_key(uint64_t epoch) const;

  const TokenShard& train_;
  int64_t seq_len_;
  int64_t sequences_per_step_;
  uint64_t seed_;
  int64_t windows_;
};

// The fixed validation set: `count` sequences of seq_len + 1 tokens from the validation
// shard, identical for every cell of a sweep that uses the same dataset and seq_len. They are
// the windows (as above) with indices floor(i * n / count), i = 0..count-1, spread evenly over
// the shard; no seed is involved.
std::vector<int64_t> validation_sequences(const TokenShard& val, int64_t seq_len, int64_t count);

// Throws, as a UsageError (a config that asks more of the data than it holds: exit 2), what
// BatchLoader or validation_sequences() would throw for these shards, without reading a
// token: for checking a run's or a sweep's data before anything starts.
void check_shards_fit(const TokenShard& train, const TokenShard& val, int64_t seq_len,
                      int64_t eval_sequences);

}  // namespace journey
