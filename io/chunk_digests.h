// Internal to io/: the SHA-256 of every chunk of a checkpoint dataset (format_version 3).
//
// HDF5's Fletcher32 filter cannot see some changes (a 16-bit word flipped between 0x0000 and
// 0xFFFF leaves it unchanged), so each non-empty dataset also carries the SHA-256 of each of
// its HDF5 chunks' rows as the dataset attribute checkpoint::kChunkDigestsAttr: uint8
// [chunks, 32], chunk c covering rows [c * R, min((c + 1) * R, rows)) where R is the chunk's
// row count. A digest covers the values' little-endian bytes (masks as bytes 0/1, however
// they are stored), so any reader (h5py and hashlib) can check it, and a reader of a row range
// checks only the chunks it touches.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/checkpoint_file.h"
#include "io/hdf5_handles.h"

namespace journey::checkpoint_hdf5 {

using Digest = std::array<uint8_t, 32>;

Digest sha256(const void* data, size_t bytes);

// Reads `row_count` rows from `row_begin` of `dataset` (of shape `shape`) as `memory_type`
// into `out`. Returns "" on success, else HDF5's description of the failure, taken before the
// handles here close (any HDF5 call clears the error stack).
std::string read_row_range(hid_t dataset, const std::vector<int64_t>& shape, int64_t row_begin,
                           int64_t row_count, hid_t memory_type, void* out);

// Rows per digested chunk: the dataset's chunk rows (every row when it is not chunked).
int64_t digest_rows(hid_t dataset, const TensorInfo& info);

// The memory type digests are taken in: uint8 in the stored type (a 1-bit mask reads as bytes
// 0/1 without HDF5's slow bit conversion), the others in their native type.
h5::Datatype digest_memory_type(hid_t dataset, DType dtype);

// The digest of chunk `chunk` as the file holds it (read back). DataError naming `file` and
// the dataset when HDF5 fails.
Digest digest_chunk_in_file(hid_t dataset, const TensorInfo& info, int64_t chunk,
                            const std::string& file, const std::string& path);

// Stores `digests` (one per chunk) as the dataset's attribute, replacing earlier ones.
void write_chunk_digests(hid_t dataset, const std::vector<Digest>& digests, const std::string& file,
                         const std::string& path);

// Digests every chunk as the file holds it and stores them (for tools that rewrite a dataset).
void write_chunk_digests(hid_t dataset, const TensorInfo& info, const std::string& file,
                         const std::string& path);

// The stored digests; nothing when the dataset has none. DataError when the attribute is not
// uint8 [chunks, 32] with one digest per chunk.
std::optional<std::vector<Digest>> read_chunk_digests(hid_t dataset, const TensorInfo& info,
                                                      const std::string& file,
                                                      const std::string& path);

}  // namespace journey::checkpoint_hdf5
