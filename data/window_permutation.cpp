#include "data/window_permutation.h"

#include <cassert>

namespace journey {

uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

WindowPermutation::WindowPermutation(uint64_t n, uint64_t key) : n_(n) {
  assert(n >= 1);
  int bits = 2;  // At least one bit per half, so the network is well defined for n <= 4.
  while (bits < 64 && (uint64_t{1} << bits) < n) bits += 2;
  half_bits_ = bits / 2;
  half_mask_ = (uint64_t{1} << half_bits_) - 1;
  uint64_t state = key;
  for (uint64_t& k : round_keys_) {
    state += 0x9e3779b97f4a7c15ULL;  // SplitMix64's stream.
    k = mix64(state);
  }
}

uint64_t WindowPermutation::feistel(uint64_t x) const {
  uint64_t left = x >> half_bits_;
  uint64_t right = x & half_mask_;
  for (uint64_t k : round_keys_) {
    const uint64_t next = left ^ (mix64(right ^ k) & half_mask_);
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

uint64_t WindowPermutation::operator()(uint64_t index) const {
  assert(index < n_);
  uint64_t x = feistel(index);
  while (x >= n_) x = feistel(x);
  return x;
}

}  // namespace journey
