// HDF5 checkpoints: the logical (unsharded) tensors and the state of one training run.
//
// The layout, its attributes and the reasons behind it are in docs/checkpoint-format.md.
// In short: root attributes (format "journey-checkpoint", format_version 1, step, config...),
// /params/<name> float32 at the full logical shape, /masks/<name> uint8 0/1, /optim/exp_avg
// and /optim/exp_avg_sq/<name>, /history/<series> 1-D int64/float64, /state/<name> small 1-D
// datasets. Every non-empty dataset is chunked by whole rows, checksummed (Fletcher32) and
// digested (SHA-256 per chunk), and compressed per CheckpointWriteOptions, so any changed
// byte is caught on read.
//
// Tensors are addressed by path ("params/layers.0.attn.wq") and by rows: the first dimension
// is "rows", and a row is everything below it. A writer may receive a tensor as row slabs in
// any order (the group leader writes each rank's range as it arrives, so no rank holds a full
// tensor) and a reader may read any row range: a checkpoint written by k ranks is read back by
// j ranks, each taking its own rows.
//
// Errors: a file that is missing, not HDF5, foreign, of another format version, truncated or
// corrupt gives DataError naming the file and (where there is one) the dataset. Misuse of the
// API (unknown tensor, rows out of range, a buffer of the wrong type, commit() with rows never
// written) is a programming error: std::invalid_argument or std::logic_error.
//
// Not thread-safe: one writer or reader per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace journey {

enum class DType { kFloat32, kUInt8, kInt64, kFloat64 };

const char* dtype_name(DType dtype);  // "float32", "uint8", "int64", "float64"
size_t dtype_size(DType dtype);
std::string shape_text(const std::vector<int64_t>& shape);  // "[3, 4]"

// Names shared by the writer, the reader and everything that reads checkpoints.
namespace checkpoint {
inline constexpr char kFormatName[] = "journey-checkpoint";
// Version 2 adds kAttributesChecksum, version 3 kChunkDigestsAttr; files of versions 1 and 2
// are still read (what they lack cannot be verified).
inline constexpr int64_t kFormatVersion = 3;
inline constexpr int64_t kOldestReadableFormatVersion = 1;

// Root attributes. The writer sets kFormat, kFormatVersion and kCreated itself; the trainer
// sets the others with set_attr().
inline constexpr char kFormatAttr[] = "format";
inline constexpr char kFormatVersionAttr[] = "format_version";
inline constexpr char kCreatedAttr[] = "created";         // ISO 8601 UTC
inline constexpr char kStepAttr[] = "step";               // int64
inline constexpr char kTokensSeenAttr[] = "tokens_seen";  // int64
inline constexpr char kAdamStepsAttr[] = "adam_steps";    // int64: AdamW's t
inline constexpr char kCellIdAttr[] = "cell_id";          // string
inline constexpr char kRunIdAttr[] = "run_id";  // string: random, fixed when a run starts fresh
inline constexpr char kTokenizerHashAttr[] = "tokenizer_hash";  // string
// string: the training data's Dataset::fingerprint (shards' counts and CRC-32s); optional.
inline constexpr char kDataFingerprintAttr[] = "data_fingerprint";
inline constexpr char kConfigAttr[] = "config";                    // string: the effective INI
inline constexpr char kWrittenByRanksAttr[] = "written_by_ranks";  // int64: group size

// Groups. A tensor's path is "<group>/<name>", e.g. "params/layers.0.attn.wq".
inline constexpr char kParams[] = "params";
inline constexpr char kMasks[] = "masks";
inline constexpr char kExpAvg[] = "optim/exp_avg";
inline constexpr char kExpAvgSq[] = "optim/exp_avg_sq";
inline constexpr char kHistory[] = "history";
inline constexpr char kState[] = "state";
// history/active: N_t, the active (unpruned) prunable parameters at each step.
inline constexpr char kActiveSeries[] = "history/active";
// uint8[64]: the hex SHA-256 of every root attribute (name, type and value, in name order),
// so an attribute edited after writing (a config, a tokenizer hash) is found by verify().
inline constexpr char kAttributesChecksum[] = "checksums/attributes";
// Dataset attribute, uint8 [chunks, 32]: the SHA-256 of each HDF5 chunk's rows, so a change
// that Fletcher32 cannot see (a 16-bit word flipped between 0x0000 and 0xFFFF) is found on
// read (io/chunk_digests.h).
inline constexpr char kChunkDigestsAttr[] = "sha256";
// uint8: the SentencePiece model the token ids refer to, so a checkpoint is self-contained.
inline constexpr char kTokenizerModelBlob[] = "state/tokenizer_model";
}  // namespace checkpoint

// How datasets are stored. The defaults were chosen with bench/checkpoint_bench (BENCHMARKS.md,
// docs/checkpoint-format.md): deflate on float tensors makes writes 10-25x slower for a file
// 0.93 (dense) to 0.40 (80% sparse) the size, and 1-bit or deflated masks save 5-6% of the file
// but cost up to a third of the checkpoint's write speed, so all are off unless a caller
// trades speed for space.
struct CheckpointWriteOptions {
  int float_deflate_level = 0;    // float32/float64 datasets; 0 stores them uncompressed.
  int integer_deflate_level = 1;  // int64 and uint8 datasets other than masks (series, blobs).
  int mask_deflate_level = 0;     // uint8 tensors under masks/.
  bool shuffle = true;            // Byte-shuffle before deflate (helps float exponents).
  // Store masks/ 1 bit per value (HDF5's N-bit filter, decoded by every HDF5 reader); readers
  // still see uint8 0/1 of the parameter's shape.
  bool one_bit_masks = false;
  int64_t chunk_bytes = 1 << 20;  // Target uncompressed bytes per chunk, in whole rows.
};

// A dataset's element type and shape; shape[0] is the row count.
struct TensorInfo {
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;

  int64_t rows() const { return shape.empty() ? 1 : shape[0]; }
  int64_t row_elements() const;  // Product of shape[1:].
  int64_t elements() const { return rows() * row_elements(); }
  size_t row_bytes() const { return static_cast<size_t>(row_elements()) * dtype_size(dtype); }
};

// One thing wrong with a checkpoint: the dataset (or "/" for the file) and what.
struct CheckpointProblem {
  std::string dataset;
  std::string error;
};

class CheckpointWriter {
 public:
  // Creates the file under a temporary name beside `final_path` (io/atomic_file.h); nothing
  // appears at final_path before commit(). Root attributes format, format_version and created
  // are set here.
  explicit CheckpointWriter(const std::string& final_path,
                            const CheckpointWriteOptions& options = {});
  // Without commit(): closes and removes the temporary file; final_path is untouched.
  ~CheckpointWriter();
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  const std::string& final_path() const;

  // Declares a tensor (dataset) of `shape` (at least one dimension; zero sizes allowed).
  // Intermediate groups are created as needed.
  void create_tensor(const std::string& path, DType dtype, std::vector<int64_t> shape);

  // Writes rows [row_begin, row_begin + row_count) from `data`, which holds those whole rows
  // contiguously in the tensor's dtype. Slabs may come in any order; rows may be rewritten.
  // Masks (uint8 under masks/) must hold only 0 and 1.
  // A tensor whose rows have all been written is flushed and closed at once, so memory stays
  // bounded by the tensors in progress. The typed overloads also check the dtype.
  void write_rows(const std::string& path, int64_t row_begin, int64_t row_count, const void* data);
  void write_rows(const std::string& path, int64_t row_begin, int64_t row_count, const float* data);
  void write_rows(const std::string& path, int64_t row_begin, int64_t row_count,
                  const uint8_t* data);

  // create_tensor() then every row.
  void write_tensor(const std::string& path, DType dtype, std::vector<int64_t> shape,
                    const void* data);

  // Root attributes: integers are stored as int64, floating point as float64, text as UTF-8
  // variable-length strings. Setting a name again replaces it. format and format_version are
  // the writer's own and cannot be set.
  template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  void set_attr(const std::string& name, T value) {
    set_int_attr(name, static_cast<int64_t>(value));
  }
  template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  void set_attr(const std::string& name, T value) {
    set_double_attr(name, static_cast<double>(value));
  }
  void set_attr(const std::string& name, const std::string& value);
  void set_attr(const std::string& name, const char* value) { set_attr(name, std::string(value)); }

  // 1-D datasets: history series ("history/loss") and small state ("state/rng").
  void write_series(const std::string& path, const std::vector<int64_t>& values);
  void write_series(const std::string& path, const std::vector<double>& values);
  void write_blob(const std::string& path, const std::vector<uint8_t>& bytes);

  // Checks that every created tensor was fully written (std::logic_error naming the first
  // that was not), closes the file, then fsyncs and renames it to final_path. After a
  // successful commit() the writer accepts nothing more.
  void commit();

 private:
  void set_int_attr(const std::string& name, int64_t value);
  void set_double_attr(const std::string& name, double value);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class CheckpointReader {
 public:
  using AttrValue = std::variant<int64_t, double, std::string>;

  // Opens `path` read-only and checks it is HDF5, its format attribute is
  // "journey-checkpoint" and its format_version is one this code reads. DataError otherwise,
  // naming the file and what was expected.
  static CheckpointReader open(const std::string& path);
  ~CheckpointReader();
  CheckpointReader(CheckpointReader&&) noexcept;
  CheckpointReader& operator=(CheckpointReader&&) noexcept;

  const std::string& path() const;

  // Whether a dataset or group exists at `path`.
  bool contains(const std::string& path) const;
  // Names of the children of `group` ("params", "optim/exp_avg", "" for the root), sorted;
  // empty when the group does not exist.
  std::vector<std::string> list(const std::string& group) const;
  // Paths of every dataset in the file, sorted.
  std::vector<std::string> datasets() const;

  // DataError when `path` is not a dataset of a supported type.
  TensorInfo info(const std::string& path) const;

  // Reads rows [row_begin, row_begin + row_count) into `out`, which must hold row_count *
  // info(path).row_bytes() bytes, in the stored dtype. The typed overloads check the dtype.
  // In a format_version 3 file the chunks the rows lie in are checked against their SHA-256
  // digests (DataError naming the rows when one differs, or when the digests are missing).
  void read_rows(const std::string& path, int64_t row_begin, int64_t row_count, void* out) const;
  void read_rows(const std::string& path, int64_t row_begin, int64_t row_count, float* out) const;
  void read_rows(const std::string& path, int64_t row_begin, int64_t row_count, uint8_t* out) const;
  // Every row.
  void read_tensor(const std::string& path, void* out) const;
  void read_tensor(const std::string& path, float* out) const;
  void read_tensor(const std::string& path, uint8_t* out) const;

  // Root attributes.
  std::vector<std::string> attr_names() const;  // Sorted.
  bool has_attr(const std::string& name) const;
  AttrValue attr(const std::string& name) const;  // DataError when missing or of another type.
  int64_t attr_int(const std::string& name) const;
  double attr_double(const std::string& name) const;  // Integers convert.
  std::string attr_string(const std::string& name) const;

  // 1-D datasets. read_series_double() converts integer series; read_series_int() requires one.
  std::vector<int64_t> read_series_int(const std::string& path) const;
  std::vector<double> read_series_double(const std::string& path) const;
  std::vector<uint8_t> read_blob(const std::string& path) const;

  // Reads every dataset completely so that checksum, digest and decompression errors surface,
  // and checks the root attributes against their checksum (verify_attributes()); returns one
  // problem per failing dataset rather than throwing, so all of them can be reported.
  std::vector<CheckpointProblem> verify() const;
  // Only the root attributes against kAttributesChecksum (cheap: no tensor is read). Files of
  // format_version 1 have no such checksum and pass.
  std::vector<CheckpointProblem> verify_attributes() const;

 private:
  struct Impl;
  explicit CheckpointReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace journey
