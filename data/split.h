// The train/validation split: by document, fixed by a hash of the document's name, so the same
// sources give the same split on every run and machine, whatever their order.
//
// The rule (docs/data-format.md states it for users):
//   1. u = the first 8 bytes of SHA-256(name) read as a big-endian integer, divided by 2^64.
//      A document is held out for validation when u < data.val_fraction.
//   2. If that leaves no training document, the validation document with the largest u
//      moves to training.
//   3. While validation holds under kMinValidationTokenShare of all tokens, the training
//      document with the smallest u moves to validation (never the last training document).
// If rule 3 cannot be met, or there are fewer than 2 documents, split_documents throws
// DataError: the sources are too small to split.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace journey {

constexpr double kMinValidationTokenShare = 0.01;

// Rule 1's u for a document name, in [0, 1).
double split_hash_unit(std::string_view name);

struct SplitInput {
  double u = 0;        // split_hash_unit of the name
  int64_t tokens = 0;  // tokens the document adds to its shard
};

struct SplitDecision {
  bool validation = false;
  bool moved = false;  // true when rule 2 or 3, not the hash alone, put it there.
};

std::vector<SplitDecision> split_documents(const std::vector<SplitInput>& documents,
                                           double val_fraction);

}  // namespace journey
