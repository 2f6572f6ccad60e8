#include <algorithm>
#include <ctime>
#include <iterator>
#include <map>
#include <stdexcept>

#include "io/atomic_file.h"
#include "io/checkpoint_file.h"
#include "io/checkpoint_hdf5.h"
#include "io/chunk_digests.h"

namespace journey {
namespace {

using checkpoint_hdf5::dataset_label;

// Slots of each dataset's chunk cache: a prime well above the chunks it holds.
constexpr size_t kCacheSlots = 521;
// Chunks each dataset's cache can hold. A slab that ends inside a chunk leaves that chunk
// cached until the next slab completes it; two partial chunks (the slab's first and last)
// plus headroom avoid compressing a chunk twice.
constexpr int64_t kCachedChunks = 4;

std::string utc_now_iso8601() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string rows_text(int64_t begin, int64_t count) {
  return "rows " + std::to_string(begin) + "-" + std::to_string(begin + count - 1);
}

}  // namespace

struct CheckpointWriter::Impl {
  enum class ChunkState : uint8_t {
    kPending,   // Rows missing.
    kDigested,  // Digest taken from the written rows.
    kRewritten  // Rows written again after the digest: digest the file's bytes at the end.
  };
  // The rows of a chunk gathered so far, until it is complete and digested.
  struct PartialChunk {
    std::vector<char> bytes;
    std::vector<bool> have;
    int64_t rows = 0;
  };

  // A created dataset; its handle stays open only while rows are missing.
  struct Tensor {
    h5::Dataset dataset;
    TensorInfo info;
    int64_t chunk_rows = 0;              // 0: contiguous (empty tensor).
    bool is_mask = false;                // uint8 under masks/: values must be 0 or 1.
    bool one_bit = false;                // A mask stored 1 bit per value.
    h5::Datatype one_bit_type;           // Then its 1-bit type, in memory and in the file.
    std::map<int64_t, int64_t> written;  // Disjoint row ranges begin -> end, merged.
    int64_t written_rows = 0;
    // SHA-256 per chunk (io/chunk_digests.h), taken from the slabs as they arrive: a chunk
    // inside one slab at once, a chunk split between slabs once its rows are all gathered.
    std::vector<checkpoint_hdf5::Digest> digests;
    std::vector<ChunkState> chunk_state;
    std::map<int64_t, PartialChunk> partial;  // Chunks with some rows written.
  };

  Impl(const std::string& final_path, const CheckpointWriteOptions& opts)
      : options(opts), target(final_path) {}

  // Error sentences name the file the user asked for.
  const std::string& file_name() const { return target.final_path(); }

  void require_open() const {
    if (committed) {
      throw std::logic_error("checkpoint " + file_name() + " is already committed");
    }
  }

  Tensor& tensor(const std::string& path) {
    auto it = tensors.find(path);
    if (it == tensors.end()) {
      throw std::invalid_argument("checkpoint " + file_name() + ": tensor '" + path +
                                  "' was never created");
    }
    return it->second;
  }

  h5::PropList dataset_access(const Tensor& t) const {
    h5::PropList dapl(
        h5::check(H5Pcreate(H5P_DATASET_ACCESS), file_name(), "", "create dataset properties"));
    const int64_t chunk_bytes = t.chunk_rows * static_cast<int64_t>(t.info.row_bytes());
    const size_t cache_bytes =
        static_cast<size_t>(std::max<int64_t>(1 << 20, kCachedChunks * chunk_bytes));
    // w0 = 1: evict chunks that were written completely first.
    h5::check(H5Pset_chunk_cache(dapl.get(), kCacheSlots, cache_bytes, 1.0), file_name(), "",
              "size the chunk cache");
    return dapl;
  }

  static bool is_mask(const std::string& path, DType dtype) {
    const std::string masks = std::string(checkpoint::kMasks) + "/";
    return dtype == DType::kUInt8 && path.compare(0, masks.size(), masks) == 0;
  }

  int deflate_level(const std::string& path, DType dtype) const {
    if (dtype == DType::kFloat32 || dtype == DType::kFloat64) return options.float_deflate_level;
    return is_mask(path, dtype) ? options.mask_deflate_level : options.integer_deflate_level;
  }

  // Chunks of whole rows near options.chunk_bytes; filters shuffle (if compressing a
  // multi-byte type), deflate, then Fletcher32 last so the checksum covers the stored bytes.
  h5::PropList dataset_creation(const std::string& path, Tensor& t) const {
    const std::string label = dataset_label(path);
    h5::PropList dcpl(
        h5::check(H5Pcreate(H5P_DATASET_CREATE), file_name(), label, "create its properties"));
    if (t.info.elements() == 0) return dcpl;  // Contiguous: nothing to chunk or checksum.
    const int64_t row_bytes = static_cast<int64_t>(t.info.row_bytes());
    t.chunk_rows = std::clamp<int64_t>(options.chunk_bytes / row_bytes, 1, t.info.rows());
    std::vector<hsize_t> chunk(t.info.shape.begin(), t.info.shape.end());
    chunk[0] = static_cast<hsize_t>(t.chunk_rows);
    h5::check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), file_name(),
              label, "set its chunk shape");
    if (t.one_bit) {
      h5::check(H5Pset_nbit(dcpl.get()), file_name(), label, "set the N-bit filter");
    }
    const int level = deflate_level(path, t.info.dtype);
    if (level > 0) {
      if (options.shuffle && dtype_size(t.info.dtype) > 1) {
        h5::check(H5Pset_shuffle(dcpl.get()), file_name(), label, "set the shuffle filter");
      }
      h5::check(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(level)), file_name(), label,
                "set the deflate filter");
    }
    h5::check(H5Pset_fletcher32(dcpl.get()), file_name(), label, "set the Fletcher32 filter");
    return dcpl;
  }

  // Records rows [begin, end) as written, merging with neighbouring ranges.
  void mark_written(Tensor& t, int64_t begin, int64_t end) {
    auto it = t.written.upper_bound(begin);
    if (it != t.written.begin() && std::prev(it)->second >= begin) --it;
    while (it != t.written.end() && it->first <= end) {
      begin = std::min(begin, it->first);
      end = std::max(end, it->second);
      t.written_rows -= it->second - it->first;
      it = t.written.erase(it);
    }
    t.written.emplace(begin, end);
    t.written_rows += end - begin;
  }

  // Digests the chunks that rows [begin, begin + count) (at `data`) complete.
  static void digest_slab(Tensor& t, int64_t begin, int64_t count, const char* data) {
    const int64_t end = begin + count;
    const size_t row_bytes = t.info.row_bytes();
    for (int64_t c = begin / t.chunk_rows; c * t.chunk_rows < end; ++c) {
      ChunkState& state = t.chunk_state[static_cast<size_t>(c)];
      if (state != ChunkState::kPending) {
        state = ChunkState::kRewritten;
        continue;
      }
      const int64_t chunk_begin = c * t.chunk_rows;
      const int64_t chunk_rows = std::min(t.chunk_rows, t.info.rows() - chunk_begin);
      const int64_t lo = std::max(begin, chunk_begin);
      const int64_t hi = std::min(end, chunk_begin + chunk_rows);
      const char* rows = data + (lo - begin) * row_bytes;
      if (lo == chunk_begin && hi == chunk_begin + chunk_rows) {  // Whole: no copy.
        t.digests[static_cast<size_t>(c)] = checkpoint_hdf5::sha256(rows, chunk_rows * row_bytes);
        state = ChunkState::kDigested;
        continue;
      }
      PartialChunk& p = t.partial[c];
      if (p.bytes.empty()) {
        p.bytes.resize(static_cast<size_t>(chunk_rows) * row_bytes);
        p.have.assign(static_cast<size_t>(chunk_rows), false);
      }
      std::copy(rows, rows + (hi - lo) * row_bytes,
                p.bytes.data() + (lo - chunk_begin) * row_bytes);
      for (int64_t r = lo - chunk_begin; r < hi - chunk_begin; ++r) {
        if (!p.have[static_cast<size_t>(r)]) {
          p.have[static_cast<size_t>(r)] = true;
          ++p.rows;
        }
      }
      if (p.rows == chunk_rows) {
        t.digests[static_cast<size_t>(c)] = checkpoint_hdf5::sha256(p.bytes.data(), p.bytes.size());
        state = ChunkState::kDigested;
        t.partial.erase(c);
      }
    }
  }

  // Once every row is written: digests of rewritten chunks from the file, then all stored.
  void store_digests(Tensor& t, const std::string& path) {
    for (size_t c = 0; c < t.chunk_state.size(); ++c) {
      if (t.chunk_state[c] == ChunkState::kRewritten) {
        t.digests[c] = checkpoint_hdf5::digest_chunk_in_file(
            t.dataset.get(), t.info, static_cast<int64_t>(c), file_name(), path);
        t.chunk_state[c] = ChunkState::kDigested;
      }
    }
    checkpoint_hdf5::write_chunk_digests(t.dataset.get(), t.digests, file_name(), path);
  }

  // The first range of rows never written, as text, or "" when complete.
  static std::string missing_rows(const Tensor& t) {
    int64_t next = 0;
    for (const auto& [begin, end] : t.written) {
      if (begin > next) return rows_text(next, begin - next);
      next = end;
    }
    return next < t.info.rows() ? rows_text(next, t.info.rows() - next) : "";
  }

  void write_scalar_attr(const std::string& name, hid_t file_type, hid_t memory_type,
                         const void* value) {
    const std::string label = "root attribute '" + name + "'";
    htri_t exists =
        h5::check(H5Aexists(file.get(), name.c_str()), file_name(), label, "look it up");
    if (exists > 0) {
      h5::check(H5Adelete(file.get(), name.c_str()), file_name(), label, "replace it");
    }
    h5::Dataspace space(h5::check(H5Screate(H5S_SCALAR), file_name(), label, "create it"));
    h5::Attribute attr(h5::check(
        H5Acreate2(file.get(), name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
        file_name(), label, "create it"));
    h5::check(H5Awrite(attr.get(), memory_type, value), file_name(), label, "write it");
  }

  CheckpointWriteOptions options;
  std::map<std::string, CheckpointReader::AttrValue> attrs;  // As written, for the checksum.
  AtomicFile target;
  h5::File file;
  std::map<std::string, Tensor> tensors;  // Declared after `file`: closed before it.
  bool committed = false;
};

CheckpointWriter::CheckpointWriter(const std::string& final_path,
                                   const CheckpointWriteOptions& options)
    : impl_(std::make_unique<Impl>(final_path, options)) {
  h5::silence_error_printing();
  if (options.chunk_bytes < 1) {
    throw std::invalid_argument("checkpoint chunk_bytes must be positive");
  }
  h5::PropList fapl = checkpoint_hdf5::file_access(final_path);
  impl_->file = h5::File(
      h5::check(H5Fcreate(impl_->target.temp_path().c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()),
                final_path, "", "create " + impl_->target.temp_path()));
  set_attr(checkpoint::kFormatAttr, std::string(checkpoint::kFormatName));
  set_int_attr(checkpoint::kFormatVersionAttr, checkpoint::kFormatVersion);
  set_attr(checkpoint::kCreatedAttr, utc_now_iso8601());
}

CheckpointWriter::~CheckpointWriter() = default;

const std::string& CheckpointWriter::final_path() const {
  return impl_->target.final_path();
}

void CheckpointWriter::create_tensor(const std::string& raw_path, DType dtype,
                                     std::vector<int64_t> shape) {
  impl_->require_open();
  const std::string path = checkpoint_hdf5::normalize_path(raw_path);
  const std::string& file = impl_->file_name();
  if (impl_->tensors.count(path)) {
    throw std::invalid_argument("checkpoint " + file + ": tensor '" + path + "' is created twice");
  }
  if (shape.empty() || std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < 0; })) {
    throw std::invalid_argument("checkpoint " + file + ": tensor '" + path +
                                "' needs at least one dimension and no negative sizes");
  }
  Impl::Tensor t;
  t.info = TensorInfo{dtype, std::move(shape)};
  const std::string label = dataset_label(path);
  hid_t file_type = checkpoint_hdf5::file_type(dtype);
  t.is_mask = Impl::is_mask(path, dtype);
  if (impl_->options.one_bit_masks && t.is_mask) {
    t.one_bit = true;
    t.one_bit_type = h5::Datatype(h5::check(H5Tcopy(H5T_STD_U8LE), file, label, "create its type"));
    h5::check(H5Tset_precision(t.one_bit_type.get(), 1), file, label, "create its 1-bit type");
    file_type = t.one_bit_type.get();
  }
  std::vector<hsize_t> dims(t.info.shape.begin(), t.info.shape.end());
  h5::Dataspace space(
      h5::check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), file, label,
                "create its dataspace"));
  h5::PropList dcpl = impl_->dataset_creation(path, t);
  h5::PropList dapl = impl_->dataset_access(t);
  h5::PropList lcpl(h5::check(H5Pcreate(H5P_LINK_CREATE), file, label, "create link properties"));
  h5::check(H5Pset_create_intermediate_group(lcpl.get(), 1), file, label,
            "allow its parent groups");
  t.dataset = h5::Dataset(h5::check(H5Dcreate2(impl_->file.get(), path.c_str(), file_type,
                                               space.get(), lcpl.get(), dcpl.get(), dapl.get()),
                                    file, label, "create it"));
  if (t.chunk_rows > 0) {
    const size_t chunks = static_cast<size_t>((t.info.rows() + t.chunk_rows - 1) / t.chunk_rows);
    t.digests.resize(chunks);
    t.chunk_state.assign(chunks, Impl::ChunkState::kPending);
  }
  if (t.info.rows() == 0 || t.info.row_elements() == 0) {
    t.written.emplace(0, t.info.rows());  // Nothing to write: complete at once.
    t.written_rows = t.info.rows();
    t.dataset.close();
  }
  impl_->tensors.emplace(path, std::move(t));
}

void CheckpointWriter::write_rows(const std::string& raw_path, int64_t row_begin, int64_t row_count,
                                  const void* data) {
  impl_->require_open();
  const std::string path = checkpoint_hdf5::normalize_path(raw_path);
  const std::string& file = impl_->file_name();
  Impl::Tensor& t = impl_->tensor(path);
  if (row_begin < 0 || row_count < 0 || row_begin + row_count > t.info.rows()) {
    throw std::invalid_argument("checkpoint " + file + ": tensor '" + path + "' has " +
                                std::to_string(t.info.rows()) + " rows; cannot write " +
                                std::to_string(row_count) + " rows from row " +
                                std::to_string(row_begin));
  }
  if (row_count == 0 || t.info.row_elements() == 0) return;
  const std::string label = dataset_label(path);
  if (!t.dataset.valid()) {  // Rewriting rows of a completed tensor.
    h5::PropList dapl = impl_->dataset_access(t);
    t.dataset = h5::Dataset(
        h5::check(H5Dopen2(impl_->file.get(), path.c_str(), dapl.get()), file, label, "reopen it"));
  }
  const std::string action = "write " + rows_text(row_begin, row_count);
  if (t.is_mask) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    const int64_t n = row_count * t.info.row_elements();
    for (int64_t i = 0; i < n; ++i) {
      if (bytes[i] > 1) {
        throw std::invalid_argument("checkpoint " + file + ": mask '" + path + "' gets value " +
                                    std::to_string(bytes[i]) + " in row " +
                                    std::to_string(row_begin + i / t.info.row_elements()) +
                                    "; mask values must be 0 or 1");
      }
    }
  }
  h5::Dataspace file_space(h5::check(H5Dget_space(t.dataset.get()), file, label, action));
  std::vector<hsize_t> start(t.info.shape.size(), 0),
      count(t.info.shape.begin(), t.info.shape.end());
  start[0] = static_cast<hsize_t>(row_begin);
  count[0] = static_cast<hsize_t>(row_count);
  h5::check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                                count.data(), nullptr),
            file, label, action);
  // The memory space has the selection's own shape: HDF5 then copies whole chunk rows instead
  // of mapping every element between spaces of different rank (10x slower, measured).
  h5::Dataspace memory_space(
      h5::check(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), file,
                label, action));
  // A 1-bit mask is written with its own type: bytes that are 0 or 1 need no conversion.
  const hid_t memory_type =
      t.one_bit ? t.one_bit_type.get() : checkpoint_hdf5::memory_type(t.info.dtype);
  h5::check(H5Dwrite(t.dataset.get(), memory_type, memory_space.get(), file_space.get(),
                     H5P_DEFAULT, data),
            file, label, action);
  impl_->mark_written(t, row_begin, row_begin + row_count);
  Impl::digest_slab(t, row_begin, row_count, static_cast<const char*>(data));
  if (t.written_rows == t.info.rows()) {
    // Complete: store the digests, then flush its cached chunks and release them.
    impl_->store_digests(t, path);
    h5::check(t.dataset.close(), file, label, "flush it");
  }
}

void CheckpointWriter::write_rows(const std::string& path, int64_t row_begin, int64_t row_count,
                                  const float* data) {
  impl_->require_open();
  const TensorInfo& info = impl_->tensor(checkpoint_hdf5::normalize_path(path)).info;
  if (info.dtype != DType::kFloat32) {
    throw std::invalid_argument("checkpoint " + impl_->file_name() + ": tensor '" + path + "' is " +
                                dtype_name(info.dtype) + ", not float32");
  }
  write_rows(path, row_begin, row_count, static_cast<const void*>(data));
}

void CheckpointWriter::write_rows(const std::string& path, int64_t row_begin, int64_t row_count,
                                  const uint8_t* data) {
  impl_->require_open();
  const TensorInfo& info = impl_->tensor(checkpoint_hdf5::normalize_path(path)).info;
  if (info.dtype != DType::kUInt8) {
    throw std::invalid_argument("checkpoint " + impl_->file_name() + ": tensor '" + path + "' is " +
                                dtype_name(info.dtype) + ", not uint8");
  }
  write_rows(path, row_begin, row_count, static_cast<const void*>(data));
}

void CheckpointWriter::write_tensor(const std::string& path, DType dtype,
                                    std::vector<int64_t> shape, const void* data) {
  const int64_t rows = shape.empty() ? 0 : shape[0];
  create_tensor(path, dtype, std::move(shape));
  write_rows(path, 0, rows, data);
}

void CheckpointWriter::set_int_attr(const std::string& name, int64_t value) {
  impl_->require_open();
  if (name == checkpoint::kFormatVersionAttr && value != checkpoint::kFormatVersion) {
    throw std::invalid_argument("the checkpoint attribute 'format_version' is the writer's own");
  }
  impl_->write_scalar_attr(name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
  impl_->attrs[name] = value;
}

void CheckpointWriter::set_double_attr(const std::string& name, double value) {
  impl_->require_open();
  impl_->write_scalar_attr(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
  impl_->attrs[name] = value;
}

void CheckpointWriter::set_attr(const std::string& name, const std::string& value) {
  impl_->require_open();
  if (name == checkpoint::kFormatAttr && value != checkpoint::kFormatName) {
    throw std::invalid_argument("the checkpoint attribute 'format' is the writer's own");
  }
  const std::string& file = impl_->file_name();
  h5::Datatype type(h5::check(H5Tcopy(H5T_C_S1), file, "", "create a string type"));
  h5::check(H5Tset_size(type.get(), H5T_VARIABLE), file, "", "create a string type");
  h5::check(H5Tset_cset(type.get(), H5T_CSET_UTF8), file, "", "create a string type");
  const char* text = value.c_str();
  impl_->write_scalar_attr(name, type.get(), type.get(), &text);
  impl_->attrs[name] = value;
}

void CheckpointWriter::write_series(const std::string& path, const std::vector<int64_t>& values) {
  write_tensor(path, DType::kInt64, {static_cast<int64_t>(values.size())}, values.data());
}

void CheckpointWriter::write_series(const std::string& path, const std::vector<double>& values) {
  write_tensor(path, DType::kFloat64, {static_cast<int64_t>(values.size())}, values.data());
}

void CheckpointWriter::write_blob(const std::string& path, const std::vector<uint8_t>& bytes) {
  write_tensor(path, DType::kUInt8, {static_cast<int64_t>(bytes.size())}, bytes.data());
}

void CheckpointWriter::commit() {
  impl_->require_open();
  const std::string digest = checkpoint_hdf5::attributes_digest(impl_->attrs);
  write_blob(checkpoint::kAttributesChecksum, std::vector<uint8_t>(digest.begin(), digest.end()));
  const std::string& file = impl_->file_name();
  for (const auto& [path, t] : impl_->tensors) {
    std::string missing = Impl::missing_rows(t);
    if (!missing.empty()) {
      throw std::logic_error("checkpoint " + file + ": tensor '" + path + "' has " + missing +
                             " unwritten; write every row before commit()");
    }
  }
  impl_->tensors.clear();
  h5::check(impl_->file.close(), file, "", "close " + impl_->target.temp_path());
  impl_->target.commit();
  impl_->committed = true;
}

}  // namespace journey
