#include "data/split.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "common/error.h"

namespace journey {

double split_hash_unit(std::string_view name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  EVP_Digest(name.data(), name.size(), digest, &length, EVP_sha256(), nullptr);
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | digest[i];
  return std::ldexp(static_cast<double>(value), -64);
}

std::vector<SplitDecision> split_documents(const std::vector<SplitInput>& documents,
                                           double val_fraction) {
  const size_t n = documents.size();
  if (n < 2) {
    throw DataError("the sources hold " + std::to_string(n) +
                    " document(s); a train/validation split needs at least 2 (add text)");
  }
  std::vector<SplitDecision> decisions(n);
  int64_t total_tokens = 0, val_tokens = 0;
  size_t val_count = 0;
  for (size_t i = 0; i < n; ++i) {
    decisions[i].validation = documents[i].u < val_fraction;
    total_tokens += documents[i].tokens;
    if (decisions[i].validation) {
      val_tokens += documents[i].tokens;
      ++val_count;
    }
  }
  // Documents by u, ties broken by position so the order is total.
  std::vector<size_t> by_u(n);
  std::iota(by_u.begin(), by_u.end(), 0);
  std::sort(by_u.begin(), by_u.end(), [&](size_t a, size_t b) {
    return documents[a].u != documents[b].u ? documents[a].u < documents[b].u : a < b;
  });
  if (val_count == n) {  // Rule 2.
    const size_t last = by_u.back();
    decisions[last] = {false, true};
    val_tokens -= documents[last].tokens;
    --val_count;
  }
  // Rule 3: the candidates are the training documents in increasing u.
  size_t train_count = n - val_count;
  for (size_t k = 0; k < n && static_cast<double>(val_tokens) <
                                  kMinValidationTokenShare * static_cast<double>(total_tokens);
       ++k) {
    const size_t i = by_u[k];
    if (decisions[i].validation) continue;
    if (train_count == 1) {
      char share[16];
      std::snprintf(share, sizeof share, "%g%%", kMinValidationTokenShare * 100);
      throw DataError(std::string("cannot hold out ") + share +
                      " of the tokens for validation without emptying the training split: the "
                      "sources hold " +
                      std::to_string(n) +
                      " documents, one of which has almost all the text (add more documents)");
    }
    decisions[i] = {true, true};
    val_tokens += documents[i].tokens;
    --train_count;
  }
  return decisions;
}

}  // namespace journey
