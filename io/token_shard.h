// Token shards: a stream of uint16 token ids with document boundaries, in one binary file that
// readers memory-map.
//
// Layout (little-endian; docs/data-format.md has the full table):
//   64-byte header: magic "JRNYTOKS", format version, token type, vocabulary size, token
//                   count, document count, CRC-32 of the payload, CRC-32 of the header
//   tokens:         token_count uint16 values, zero-padded to a multiple of 8 bytes
//   documents:      document_count + 1 uint64 offsets into the token stream; document i is
//                   tokens [offset[i], offset[i+1]), offset[0] = 0, offset[last] = token_count
// A shard knows nothing of tokenizers or separators: whoever writes it decides what a
// document's tokens are (the dataset prepends the tokenizer's BOS id to each document).
//
// TokenShard::open checks everything before returning (magic, version, header checksum, token
// type, exact file size, payload checksum, monotonic offsets, every token below the vocabulary
// size) and throws DataError naming the file and what is wrong, so a truncated, corrupt or
// foreign file never reaches training. TokenShardWriter writes to the given path and makes the
// file complete and durable (fsync) only in finish(); a writer destroyed before finish()
// removes its partial file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace journey {

class TokenShard {
 public:
  static constexpr uint32_t kFormatVersion = 1;
  static constexpr size_t kHeaderBytes = 64;
  // The largest vocabulary a uint16 token type can address.
  static constexpr int64_t kMaxVocabSize = 65536;

  // Maps and verifies `path`. With `expected_vocab_size` > 0, a shard made for another
  // vocabulary is a DataError too.
  static TokenShard open(const std::string& path, int64_t expected_vocab_size = 0);

  TokenShard(TokenShard&& other) noexcept;
  TokenShard& operator=(TokenShard&& other) noexcept;
  TokenShard(const TokenShard&) = delete;
  TokenShard& operator=(const TokenShard&) = delete;
  ~TokenShard();

  const std::string& path() const { return path_; }
  int64_t vocab_size() const { return vocab_size_; }
  int64_t size() const { return token_count_; }  // Tokens in the stream.
  const uint16_t* tokens() const { return tokens_; }
  int64_t document_count() const { return document_count_; }
  // The header's CRC-32 of everything after it (tokens and document table), verified by open().
  uint32_t payload_crc32() const { return payload_crc32_; }
  // Start of document i in the token stream; document_start(document_count()) == size().
  int64_t document_start(int64_t i) const { return static_cast<int64_t>(offsets_[i]); }

 private:
  TokenShard() = default;
  void unmap();

  std::string path_;
  void* mapping_ = nullptr;
  size_t mapping_bytes_ = 0;
  int64_t vocab_size_ = 0;
  int64_t token_count_ = 0;
  int64_t document_count_ = 0;
  uint32_t payload_crc32_ = 0;
  const uint16_t* tokens_ = nullptr;
  const uint64_t* offsets_ = nullptr;
};

class TokenShardWriter {
 public:
  // Creates (truncates) `path`. Throws DataError if it cannot be written.
  TokenShardWriter(const std::string& path, int64_t vocab_size);
  TokenShardWriter(const TokenShardWriter&) = delete;
  TokenShardWriter& operator=(const TokenShardWriter&) = delete;
  ~TokenShardWriter();

  // Appends one document. Every id must be in [0, vocab_size); a bad id is a programming
  // error of the caller (asserted).
  void add_document(const uint16_t* ids, size_t count);
  void add_document(const std::vector<uint16_t>& ids) { add_document(ids.data(), ids.size()); }

  int64_t token_count() const { return static_cast<int64_t>(offsets_.back()); }
  int64_t document_count() const { return static_cast<int64_t>(offsets_.size()) - 1; }

  // Writes the document table and the header, flushes and fsyncs. Throws DataError on I/O
  // failure.
  void finish();

 private:
  void write(const void* data, size_t bytes);

  std::string path_;
  std::FILE* file_ = nullptr;
  int64_t vocab_size_ = 0;
  uint32_t payload_crc_ = 0;
  std::vector<uint64_t> offsets_{0};
  bool finished_ = false;
};

}  // namespace journey
