// A seeded bijection of [0, n) that is evaluated one index at a time, in O(1) memory: the
// training loader's shuffle of sequence windows, one permutation per (seed, epoch).
//
// A balanced Feistel network over the smallest even number of bits 2h with 2^(2h) >= n is a
// bijection of [0, 2^(2h)) for any round function; "cycle walking" (apply it again while the
// value is >= n) restricts it to a bijection of [0, n). Since 2^(2h) < 4n (for n > 1), fewer
// than four applications are needed on average. The round keys come from the 64-bit key by
// SplitMix64, and the round function is SplitMix64's finaliser, so nearby keys give unrelated
// permutations.
#pragma once

#include <cstdint>

namespace journey {

class WindowPermutation {
 public:
  // n >= 1.
  WindowPermutation(uint64_t n, uint64_t key);

  // The image of index (< n).
  uint64_t operator()(uint64_t index) const;
  uint64_t size() const { return n_; }

 private:
  static constexpr int kRounds = 6;
  uint64_t feistel(uint64_t x) const;

  uint64_t n_;
  int half_bits_;
  uint64_t half_mask_;
  uint64_t round_keys_[kRounds];
};

// SplitMix64's finaliser: a fast, well-mixing bijection of 64-bit integers.
uint64_t mix64(uint64_t x);

}  // namespace journey
