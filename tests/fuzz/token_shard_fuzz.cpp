// Fuzz target: a token shard, as Dataset::open and `journey eval-tokens` open one
// (TokenShard::open). Expected errors are DataError.
// Contract checked beyond "no crash": a shard that opens has document boundaries that start at
// 0, never decrease and end at size(), and every token is below vocab_size() (io/token_shard.h).
//
// Most mutations break one of the two CRC-32s, which stops the reader at its first checks, so
// an input that starts with the magic bytes is also tried with both checksums made right: that
// reaches the size, document-table and token checks behind them.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/token_shard.h"
#include "tests/fuzz/fuzz_files.h"

using namespace journey;

namespace {

// Header offsets (io/token_shard.cpp, docs/data-format.md).
constexpr size_t kHeaderCrcOffset = 20;
constexpr size_t kPayloadCrcOffset = 40;

void store_crc(std::vector<uint8_t>& bytes, size_t offset, uLong crc) {
  const uint32_t value = static_cast<uint32_t>(crc);
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

std::vector<uint8_t> with_checksums_made_right(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  const size_t header = TokenShard::kHeaderBytes;
  store_crc(bytes, kPayloadCrcOffset,
            crc32_z(crc32(0, nullptr, 0), bytes.data() + header, bytes.size() - header));
  store_crc(bytes, kHeaderCrcOffset, 0);
  store_crc(bytes, kHeaderCrcOffset, crc32_z(crc32(0, nullptr, 0), bytes.data(), header));
  return bytes;
}

void open_and_read(const std::string& path) {
  try {
    const TokenShard shard = TokenShard::open(path);
    const int64_t documents = shard.document_count();
    if (documents < 0 || shard.size() < 0) fuzz::contract_broken("negative counts");
    if (shard.document_start(0) != 0 || shard.document_start(documents) != shard.size()) {
      fuzz::contract_broken("the document table does not span the tokens");
    }
    for (int64_t i = 0; i < documents; ++i) {
      if (shard.document_start(i) > shard.document_start(i + 1)) {
        fuzz::contract_broken("a document ends before it starts");
      }
    }
    for (int64_t i = 0; i < shard.size(); ++i) {
      if (shard.tokens()[i] >= shard.vocab_size()) fuzz::contract_broken("a token out of vocab");
    }
  } catch (const DataError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  open_and_read(fuzz::write_scratch_file("shard.tok", data, size));
  if (size >= TokenShard::kHeaderBytes && std::memcmp(data, "JRNYTOKS", 8) == 0) {
    const std::vector<uint8_t> fixed = with_checksums_made_right(data, size);
    open_and_read(fuzz::write_scratch_file("shard-fixed.tok", fixed.data(), fixed.size()));
  }
  return 0;
}
