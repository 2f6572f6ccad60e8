// SHA-256 digests (OpenSSL's libcrypto) as lowercase hex, for identifying files by content
// (a dataset records its tokenizer's digest and checkpoints record it in turn, so a run can
// tell whether it is resumed against the same tokenizer) and for checksumming a checkpoint's
// attributes.
#pragma once

#include <string>
#include <string_view>

namespace journey {

// Hex SHA-256 of `bytes` (64 characters).
std::string sha256_hex(std::string_view bytes);

// Hex SHA-256 of the file's contents. Throws DataError if it cannot be read.
std::string file_sha256_hex(const std::string& path);

}  // namespace journey
