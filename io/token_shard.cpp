#include "io/token_shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <utility>

#include "common/error.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "token shards are little-endian and read in place; add byte swapping first");

namespace journey {
namespace {

constexpr char kMagic[8] = {'J', 'R', 'N', 'Y', 'T', 'O', 'K', 'S'};
// Token type codes; only uint16 exists so far.
constexpr uint32_t kTokenTypeUint16 = 1;

// The on-disk header, written and read as raw bytes (every field naturally aligned).
struct Header {
  char magic[8];
  uint32_t version;
  uint32_t token_type;
  uint32_t vocab_size;
  uint32_t header_crc;  // CRC-32 of the 64 header bytes with this field zero.
  uint64_t token_count;
  uint64_t document_count;
  uint32_t payload_crc;  // CRC-32 of every byte after the header.
  uint32_t reserved32;
  uint64_t reserved[2];
};
static_assert(sizeof(Header) == TokenShard::kHeaderBytes, "header must be 64 bytes");

uint32_t crc32_of(uint32_t crc, const void* data, size_t bytes) {
  if (bytes == 0) return crc;  // zlib treats a null buffer as "give the initial value".
  return static_cast<uint32_t>(
      crc32_z(crc, static_cast<const Bytef*>(data), static_cast<z_size_t>(bytes)));
}

uint32_t header_crc(Header header) {
  header.header_crc = 0;
  return crc32_of(crc32(0, nullptr, 0), &header, sizeof header);
}

// Bytes of the token section, padded so the document table is 8-byte aligned.
uint64_t padded_token_bytes(uint64_t token_count) {
  return (token_count * 2 + 7) / 8 * 8;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError("token shard " + path + " " + what);
}

}  // namespace

TokenShard TokenShard::open(const std::string& path, int64_t expected_vocab_size) {
  TokenShard shard;
  shard.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot be opened: ") + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "is not a regular file");
  }
  const uint64_t file_bytes = static_cast<uint64_t>(st.st_size);
  if (file_bytes > 0) {
    void* p = mmap(nullptr, file_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      fail(path, std::string("cannot be memory-mapped: ") + std::strerror(err));
    }
    shard.mapping_ = p;
    shard.mapping_bytes_ = file_bytes;
  }
  ::close(fd);

  const char* base = static_cast<const char*>(shard.mapping_);
  if (file_bytes < sizeof kMagic || std::memcmp(base, kMagic, sizeof kMagic) != 0) {
    fail(path, "is not a Journey token shard (it does not start with the magic bytes JRNYTOKS)");
  }
  if (file_bytes < kHeaderBytes) {
    fail(path, "is truncated: " + std::to_string(file_bytes) + " bytes, shorter than the " +
                   std::to_string(kHeaderBytes) + "-byte header");
  }
  Header h;
  std::memcpy(&h, base, sizeof h);
  if (h.version != kFormatVersion) {
    fail(path, "has format version " + std::to_string(h.version) +
                   ", but this build reads version " + std::to_string(kFormatVersion) + " only");
  }
  if (h.header_crc != header_crc(h)) fail(path, "has a corrupt header (header checksum mismatch)");
  if (h.token_type != kTokenTypeUint16) {
    fail(path, "has token type " + std::to_string(h.token_type) + "; only 1 (uint16) is supported");
  }
  if (h.vocab_size == 0 || h.vocab_size > kMaxVocabSize) {
    fail(path, "has an impossible vocabulary size " + std::to_string(h.vocab_size) +
                   " for uint16 tokens");
  }
  if (expected_vocab_size > 0 && h.vocab_size != static_cast<uint64_t>(expected_vocab_size)) {
    fail(path, "was made for a vocabulary of " + std::to_string(h.vocab_size) +
                   " tokens, but the tokenizer has " + std::to_string(expected_vocab_size));
  }
  // Sizes first in a way that cannot overflow: a count too large for the file is truncation.
  if (h.token_count > file_bytes / 2 || h.document_count > file_bytes / 8) {
    fail(path, "is truncated: its header announces " + std::to_string(h.token_count) +
                   " tokens and " + std::to_string(h.document_count) +
                   " documents, but the file has " + std::to_string(file_bytes) + " bytes");
  }
  const uint64_t expected_bytes =
      kHeaderBytes + padded_token_bytes(h.token_count) + 8 * (h.document_count + 1);
  if (file_bytes < expected_bytes) {
    fail(path, "is truncated: " + std::to_string(file_bytes) + " bytes, but its header announces " +
                   std::to_string(h.token_count) + " tokens and " +
                   std::to_string(h.document_count) + " documents (" +
                   std::to_string(expected_bytes) + " bytes)");
  }
  if (file_bytes > expected_bytes) {
    fail(path, "has " + std::to_string(file_bytes - expected_bytes) +
                   " unexpected bytes after its document table (not written by this format)");
  }
  const uint32_t crc =
      crc32_of(crc32(0, nullptr, 0), base + kHeaderBytes, file_bytes - kHeaderBytes);
  if (crc != h.payload_crc)
    fail(path, "is corrupt: the payload checksum does not match the header");

  shard.vocab_size_ = h.vocab_size;
  shard.token_count_ = static_cast<int64_t>(h.token_count);
  shard.document_count_ = static_cast<int64_t>(h.document_count);
  shard.payload_crc32_ = h.payload_crc;
  shard.tokens_ = reinterpret_cast<const uint16_t*>(base + kHeaderBytes);
  shard.offsets_ =
      reinterpret_cast<const uint64_t*>(base + kHeaderBytes + padded_token_bytes(h.token_count));
  // A matching checksum with bad contents means a buggy writer, but the reader's guarantees
  // must not depend on that.
  if (shard.offsets_[0] != 0 || shard.offsets_[h.document_count] != h.token_count) {
    fail(path, "has a corrupt document table (it must start at 0 and end at the token count)");
  }
  for (uint64_t i = 0; i < h.document_count; ++i) {
    if (shard.offsets_[i] > shard.offsets_[i + 1]) {
      fail(path, "has a corrupt document table (document " + std::to_string(i) +
                     " ends before it starts)");
    }
  }
  uint16_t max_token = 0;
  for (int64_t i = 0; i < shard.token_count_; ++i)
    max_token = std::max(max_token, shard.tokens_[i]);
  if (shard.token_count_ > 0 && max_token >= h.vocab_size) {
    fail(path, "holds token id " + std::to_string(max_token) + ", outside its vocabulary of " +
                   std::to_string(h.vocab_size));
  }
  return shard;
}

TokenShard::TokenShard(TokenShard&& other) noexcept {
  *this = std::move(other);
}

TokenShard& TokenShard::operator=(TokenShard&& other) noexcept {
  if (this != &other) {
    unmap();
    path_ = std::move(other.path_);
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_bytes_ = std::exchange(other.mapping_bytes_, 0);
    vocab_size_ = other.vocab_size_;
    token_count_ = other.token_count_;
    document_count_ = other.document_count_;
    payload_crc32_ = other.payload_crc32_;
    tokens_ = std::exchange(other.tokens_, nullptr);
    offsets_ = std::exchange(other.offsets_, nullptr);
  }
  return *this;
}

TokenShard::~TokenShard() {
  unmap();
}

void TokenShard::unmap() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_bytes_);
  mapping_ = nullptr;
}

TokenShardWriter::TokenShardWriter(const std::string& path, int64_t vocab_size)
    : path_(path), vocab_size_(vocab_size) {
  assert(vocab_size > 0 && vocab_size <= TokenShard::kMaxVocabSize);
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) {
    throw DataError("cannot create token shard " + path + ": " + std::strerror(errno));
  }
  payload_crc_ = crc32(0, nullptr, 0);
  const char zeros[TokenShard::kHeaderBytes] = {};
  write(zeros, sizeof zeros);  // The real header goes in last, when the counts are known.
}

TokenShardWriter::~TokenShardWriter() {
  if (file_ != nullptr) std::fclose(file_);
  if (!finished_) std::remove(path_.c_str());
}

void TokenShardWriter::write(const void* data, size_t bytes) {
  if (bytes > 0 && std::fwrite(data, 1, bytes, file_) != bytes) {
    throw DataError("cannot write token shard " + path_ + ": " + std::strerror(errno));
  }
}

void TokenShardWriter::add_document(const uint16_t* ids, size_t count) {
  assert(!finished_);
  for (size_t i = 0; i < count; ++i) assert(ids[i] < vocab_size_);
  write(ids, count * sizeof(uint16_t));
  payload_crc_ = crc32_of(payload_crc_, ids, count * sizeof(uint16_t));
  offsets_.push_back(offsets_.back() + count);
}

void TokenShardWriter::finish() {
  assert(!finished_);
  const uint64_t tokens = offsets_.back();
  const char zeros[8] = {};
  const size_t padding = padded_token_bytes(tokens) - tokens * 2;
  write(zeros, padding);
  payload_crc_ = crc32_of(payload_crc_, zeros, padding);
  write(offsets_.data(), offsets_.size() * sizeof(uint64_t));
  payload_crc_ = crc32_of(payload_crc_, offsets_.data(), offsets_.size() * sizeof(uint64_t));

  Header h = {};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = TokenShard::kFormatVersion;
  h.token_type = kTokenTypeUint16;
  h.vocab_size = static_cast<uint32_t>(vocab_size_);
  h.token_count = tokens;
  h.document_count = offsets_.size() - 1;
  h.payload_crc = payload_crc_;
  h.header_crc = header_crc(h);
  if (std::fseek(file_, 0, SEEK_SET) != 0) {
    throw DataError("cannot write token shard " + path_ + ": " + std::strerror(errno));
  }
  write(&h, sizeof h);
  if (std::fflush(file_) != 0 || fsync(fileno(file_)) != 0) {
    throw DataError("cannot write token shard " + path_ + ": " + std::strerror(errno));
  }
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0)
    throw DataError("cannot write token shard " + path_ + ": " + std::strerror(errno));
  finished_ = true;
}

}  // namespace journey
