#include <algorithm>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "common/error.h"
#include "io/checkpoint_file.h"
#include "io/checkpoint_hdf5.h"
#include "io/chunk_digests.h"

namespace journey {
namespace {

using checkpoint_hdf5::dataset_label;
using checkpoint_hdf5::Digest;
using checkpoint_hdf5::read_row_range;

// verify() reads this many bytes at a time (rounded to whole chunks).
constexpr int64_t kVerifyBlockBytes = 16 << 20;

std::string rows_text(int64_t begin, int64_t count) {
  return "rows " + std::to_string(begin) + "-" + std::to_string(begin + count - 1);
}

std::string attr_kind(const CheckpointReader::AttrValue& value) {
  if (std::holds_alternative<int64_t>(value)) return "an integer";
  if (std::holds_alternative<double>(value)) return "a floating-point number";
  return "a string";
}

herr_t collect_attr_name(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

herr_t collect_link_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

herr_t collect_dataset_path(hid_t, const char* name, const H5O_info_t* info, void* data) {
  if (info->type == H5O_TYPE_DATASET) {
    static_cast<std::vector<std::string>*>(data)->push_back(name);
  }
  return 0;
}

// Shape of a dataset's dataspace (empty for a scalar).
std::vector<int64_t> shape_of(hid_t dataset, const std::string& file, const std::string& label) {
  h5::Dataspace space(h5::check(H5Dget_space(dataset), file, label, "read its shape"));
  int rank = h5::check(H5Sget_simple_extent_ndims(space.get()), file, label, "read its shape");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  h5::check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), file, label,
            "read its shape");
  return std::vector<int64_t>(dims.begin(), dims.end());
}

bool has_fletcher32(hid_t dcpl) {
  const int filters = H5Pget_nfilters(dcpl);
  for (int i = 0; i < filters; ++i) {
    unsigned flags = 0;
    size_t values = 0;
    if (H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &values, nullptr, 0, nullptr,
                       nullptr) == H5Z_FILTER_FLETCHER32) {
      return true;
    }
  }
  return false;
}

}  // namespace

struct CheckpointReader::Impl {
  std::string path;
  h5::File file;
  int64_t format_version = 0;

  h5::Dataset open_dataset(const std::string& name) const {
    const std::string label = dataset_label(name);
    if (!link_exists(name)) throw DataError(path + " has no " + label);
    return h5::Dataset(
        h5::check(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), path, label, "open it"));
  }

  // H5Lexists needs every parent to exist, so walk down the path.
  bool link_exists(const std::string& name) const {
    size_t slash = 0;
    while (true) {
      slash = name.find('/', slash + 1);
      const std::string prefix = name.substr(0, slash);
      htri_t exists = h5::check(H5Lexists(file.get(), prefix.c_str(), H5P_DEFAULT), path,
                                "'" + prefix + "'", "look it up");
      if (exists <= 0) return false;
      if (slash == std::string::npos) return true;
    }
  }

  TensorInfo info_of(hid_t dataset, const std::string& name) const {
    const std::string label = dataset_label(name);
    h5::Datatype type(h5::check(H5Dget_type(dataset), path, label, "read its type"));
    std::optional<DType> dtype = checkpoint_hdf5::dtype_of(type.get());
    if (!dtype) {
      throw DataError(path + ", " + label +
                      ": its element type is not float32, uint8, int64 or float64");
    }
    return TensorInfo{*dtype, shape_of(dataset, path, label)};
  }

  void read(const std::string& raw_name, int64_t row_begin, int64_t row_count,
            std::optional<DType> expected, hid_t memory_type, void* out) const {
    const std::string name = checkpoint_hdf5::normalize_path(raw_name);
    const std::string label = dataset_label(name);
    h5::Dataset dataset = open_dataset(name);
    TensorInfo info = info_of(dataset.get(), name);
    if (expected && info.dtype != *expected) {
      throw DataError(path + ", " + label + ": holds " + dtype_name(info.dtype) + ", expected " +
                      dtype_name(*expected));
    }
    if (row_begin < 0 || row_count < 0 || row_begin + row_count > info.rows()) {
      throw DataError(path + ", " + label + ": has " + std::to_string(info.rows()) +
                      " rows, cannot read " + std::to_string(row_count) + " rows from row " +
                      std::to_string(row_begin));
    }
    // uint8 is read in the dataset's own type: a 1-bit mask then skips HDF5's bit-by-bit
    // conversion between precisions (4x slower reads, measured), and the bytes are the same.
    h5::Datatype stored;
    const bool stored_bytes = memory_type == H5I_INVALID_HID;  // What the digests cover.
    if (memory_type == H5I_INVALID_HID && info.dtype == DType::kUInt8) {
      stored = h5::Datatype(h5::check(H5Dget_type(dataset.get()), path, label, "read its type"));
      memory_type = stored.get();
    } else if (memory_type == H5I_INVALID_HID) {
      memory_type = checkpoint_hdf5::memory_type(info.dtype);
    }
    std::string cause =
        read_row_range(dataset.get(), info.shape, row_begin, row_count, memory_type, out);
    if (!cause.empty()) {
      throw DataError(path + ", " + label + ": cannot read " + rows_text(row_begin, row_count) +
                      " (HDF5: " + cause + ")");
    }
    check_digests(dataset.get(), name, info, row_begin, row_count, stored_bytes ? out : nullptr);
  }

  // Checks the chunks that rows [row_begin, row_begin + row_count) lie in against their
  // digests (format_version 3). `read` holds those rows as the digests cover them, or is null
  // (a converting read); chunks it does not hold whole are read again here.
  void check_digests(hid_t dataset, const std::string& name, const TensorInfo& info,
                     int64_t row_begin, int64_t row_count, const void* read) const {
    if (format_version < 3 || row_count == 0 || info.row_elements() == 0) return;
    const std::string label = dataset_label(name);
    std::optional<std::vector<Digest>> digests =
        checkpoint_hdf5::read_chunk_digests(dataset, info, path, name);
    if (!digests) {
      throw DataError(path + ", " + label + ": has no SHA-256 digests (attribute '" +
                      checkpoint::kChunkDigestsAttr +
                      "'), which format_version 3 requires: it was rewritten by another tool");
    }
    const int64_t chunk_rows = checkpoint_hdf5::digest_rows(dataset, info);
    const size_t row_bytes = info.row_bytes();
    std::vector<char> chunk;
    h5::Datatype memory;
    for (int64_t c = row_begin / chunk_rows; c * chunk_rows < row_begin + row_count; ++c) {
      const int64_t begin = c * chunk_rows;
      const int64_t count = std::min(chunk_rows, info.rows() - begin);
      const void* bytes = nullptr;
      if (read != nullptr && begin >= row_begin && begin + count <= row_begin + row_count) {
        bytes = static_cast<const char*>(read) + (begin - row_begin) * row_bytes;
      } else {
        if (!memory.valid()) {
          memory = checkpoint_hdf5::digest_memory_type(dataset, info.dtype);
          chunk.resize(static_cast<size_t>(chunk_rows) * row_bytes);
        }
        const std::string cause =
            read_row_range(dataset, info.shape, begin, count, memory.get(), chunk.data());
        if (!cause.empty()) {
          throw DataError(path + ", " + label + ": cannot read " + rows_text(begin, count) +
                          " (HDF5: " + cause + ")");
        }
        bytes = chunk.data();
      }
      if (checkpoint_hdf5::sha256(bytes, count * row_bytes) != (*digests)[c]) {
        throw DataError(path + ", " + label + ": " + rows_text(begin, count) +
                        " do not match their SHA-256 digest: the file was changed after it was "
                        "written");
      }
    }
  }

  // A 1-D dataset's length, checking its rank and that its dtype is acceptable.
  int64_t series_length(const std::string& name, bool (*acceptable)(DType),
                        const char* expected) const {
    h5::Dataset dataset = open_dataset(name);
    TensorInfo info = info_of(dataset.get(), name);
    if (info.shape.size() != 1 || !acceptable(info.dtype)) {
      throw DataError(path + ", " + dataset_label(name) + ": expected a 1-D " + expected +
                      " dataset, found " + dtype_name(info.dtype) + " of rank " +
                      std::to_string(info.shape.size()));
    }
    return info.shape[0];
  }
};

CheckpointReader::CheckpointReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CheckpointReader::~CheckpointReader() = default;
CheckpointReader::CheckpointReader(CheckpointReader&&) noexcept = default;
CheckpointReader& CheckpointReader::operator=(CheckpointReader&&) noexcept = default;

CheckpointReader CheckpointReader::open(const std::string& path) {
  h5::silence_error_printing();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw DataError("checkpoint " + path + " does not exist");
  }
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw DataError("checkpoint " + path + " is not a regular file");
  }
  htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 == 0) {
    throw DataError(path + " is not an HDF5 file (expected a " +
                    std::string(checkpoint::kFormatName) + " file)");
  }
  h5::check(is_hdf5, path, "", "check whether it is an HDF5 file");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  h5::PropList fapl = checkpoint_hdf5::file_access(path);
  impl->file =
      h5::File(h5::check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), path, "", "open it"));
  CheckpointReader reader(std::move(impl));

  const std::string expected_format = checkpoint::kFormatName;
  if (!reader.has_attr(checkpoint::kFormatAttr)) {
    throw DataError(path + " is an HDF5 file but not a " + expected_format +
                    ": it has no root attribute '" + checkpoint::kFormatAttr + "'");
  }
  AttrValue format = reader.attr(checkpoint::kFormatAttr);
  if (!std::holds_alternative<std::string>(format) ||
      std::get<std::string>(format) != expected_format) {
    std::string found = std::holds_alternative<std::string>(format)
                            ? "'" + std::get<std::string>(format) + "'"
                            : attr_kind(format);
    throw DataError(path + " is an HDF5 file but not a " + expected_format +
                    ": its root attribute 'format' is " + found + ", expected '" + expected_format +
                    "'");
  }
  if (!reader.has_attr(checkpoint::kFormatVersionAttr)) {
    throw DataError(path + " has no root attribute '" +
                    std::string(checkpoint::kFormatVersionAttr) + "' (expected " +
                    std::to_string(checkpoint::kFormatVersion) + ")");
  }
  const int64_t version = reader.attr_int(checkpoint::kFormatVersionAttr);
  if (version < checkpoint::kOldestReadableFormatVersion || version > checkpoint::kFormatVersion) {
    throw DataError(path + " is " + expected_format + " format_version " + std::to_string(version) +
                    "; this build reads format_version " +
                    std::to_string(checkpoint::kOldestReadableFormatVersion) + " to " +
                    std::to_string(checkpoint::kFormatVersion));
  }
  reader.impl_->format_version = version;
  return reader;
}

const std::string& CheckpointReader::path() const {
  return impl_->path;
}

bool CheckpointReader::contains(const std::string& path) const {
  const std::string name = checkpoint_hdf5::normalize_path(path);
  return impl_->link_exists(name);
}

std::vector<std::string> CheckpointReader::list(const std::string& group) const {
  std::vector<std::string> names;
  std::string name = group.find_first_not_of('/') == std::string::npos
                         ? "/"
                         : checkpoint_hdf5::normalize_path(group);
  if (name != "/" && !impl_->link_exists(name)) return names;
  const std::string label = "group '" + name + "'";
  H5O_info_t object{};
  h5::check(
      H5Oget_info_by_name2(impl_->file.get(), name.c_str(), &object, H5O_INFO_BASIC, H5P_DEFAULT),
      impl_->path, label, "look it up");
  if (object.type != H5O_TYPE_GROUP) return names;
  h5::Group g(h5::check(H5Gopen2(impl_->file.get(), name.c_str(), H5P_DEFAULT), impl_->path, label,
                        "open it"));
  h5::check(H5Literate(g.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_link_name, &names),
            impl_->path, label, "list it");
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> CheckpointReader::datasets() const {
  std::vector<std::string> paths;
  h5::check(H5Ovisit2(impl_->file.get(), H5_INDEX_NAME, H5_ITER_INC, collect_dataset_path, &paths,
                      H5O_INFO_BASIC),
            impl_->path, "", "list its datasets");
  std::sort(paths.begin(), paths.end());
  return paths;
}

TensorInfo CheckpointReader::info(const std::string& path) const {
  const std::string name = checkpoint_hdf5::normalize_path(path);
  h5::Dataset dataset = impl_->open_dataset(name);
  return impl_->info_of(dataset.get(), name);
}

void CheckpointReader::read_rows(const std::string& path, int64_t row_begin, int64_t row_count,
                                 void* out) const {
  impl_->read(path, row_begin, row_count, std::nullopt, H5I_INVALID_HID, out);
}

void CheckpointReader::read_rows(const std::string& path, int64_t row_begin, int64_t row_count,
                                 float* out) const {
  impl_->read(path, row_begin, row_count, DType::kFloat32, H5I_INVALID_HID, out);
}

void CheckpointReader::read_rows(const std::string& path, int64_t row_begin, int64_t row_count,
                                 uint8_t* out) const {
  impl_->read(path, row_begin, row_count, DType::kUInt8, H5I_INVALID_HID, out);
}

void CheckpointReader::read_tensor(const std::string& path, void* out) const {
  read_rows(path, 0, info(path).rows(), out);
}

void CheckpointReader::read_tensor(const std::string& path, float* out) const {
  read_rows(path, 0, info(path).rows(), out);
}

void CheckpointReader::read_tensor(const std::string& path, uint8_t* out) const {
  read_rows(path, 0, info(path).rows(), out);
}

std::vector<std::string> CheckpointReader::attr_names() const {
  std::vector<std::string> names;
  h5::check(H5Aiterate2(impl_->file.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attr_name,
                        &names),
            impl_->path, "", "list its root attributes");
  std::sort(names.begin(), names.end());
  return names;
}

bool CheckpointReader::has_attr(const std::string& name) const {
  return h5::check(H5Aexists(impl_->file.get(), name.c_str()), impl_->path,
                   "root attribute '" + name + "'", "look it up") > 0;
}

CheckpointReader::AttrValue CheckpointReader::attr(const std::string& name) const {
  const std::string& file = impl_->path;
  const std::string label = "root attribute '" + name + "'";
  if (!has_attr(name)) throw DataError(file + " has no " + label);
  h5::Attribute attribute(
      h5::check(H5Aopen(impl_->file.get(), name.c_str(), H5P_DEFAULT), file, label, "open it"));
  h5::Dataspace space(h5::check(H5Aget_space(attribute.get()), file, label, "read its shape"));
  const hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (points < 0) h5::fail(file, label, "read its shape");
  if (points != 1) throw DataError(file + ", " + label + ": expected a single value");
  h5::Datatype type(h5::check(H5Aget_type(attribute.get()), file, label, "read its type"));
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER: {
      int64_t value = 0;
      h5::check(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value), file, label, "read it");
      return value;
    }
    case H5T_FLOAT: {
      double value = 0;
      h5::check(H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value), file, label, "read it");
      return value;
    }
    case H5T_STRING: {
      htri_t variable = h5::check(H5Tis_variable_str(type.get()), file, label, "read its type");
      if (variable > 0) {
        char* text = nullptr;
        h5::Datatype memory(h5::check(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), file, label,
                                      "read its type"));
        h5::check(H5Aread(attribute.get(), memory.get(), &text), file, label, "read it");
        std::string value = text != nullptr ? text : "";
        H5free_memory(text);
        return value;
      }
      // Fixed-length (as h5py writes numpy byte strings): trim the padding.
      std::string value(H5Tget_size(type.get()), '\0');
      h5::check(H5Aread(attribute.get(), type.get(), value.data()), file, label, "read it");
      value.resize(std::min(value.size(), value.find('\0')));
      return value;
    }
    default:
      throw DataError(file + ", " + label + ": expected an integer, a number or a string");
  }
}

int64_t CheckpointReader::attr_int(const std::string& name) const {
  AttrValue value = attr(name);
  if (auto* i = std::get_if<int64_t>(&value)) return *i;
  throw DataError(impl_->path + ": root attribute '" + name + "' is " + attr_kind(value) +
                  ", expected an integer");
}

double CheckpointReader::attr_double(const std::string& name) const {
  AttrValue value = attr(name);
  if (auto* d = std::get_if<double>(&value)) return *d;
  if (auto* i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
  throw DataError(impl_->path + ": root attribute '" + name + "' is " + attr_kind(value) +
                  ", expected a number");
}

std::string CheckpointReader::attr_string(const std::string& name) const {
  AttrValue value = attr(name);
  if (auto* s = std::get_if<std::string>(&value)) return *s;
  throw DataError(impl_->path + ": root attribute '" + name + "' is " + attr_kind(value) +
                  ", expected a string");
}

std::vector<int64_t> CheckpointReader::read_series_int(const std::string& path) const {
  const std::string name = checkpoint_hdf5::normalize_path(path);
  std::vector<int64_t> values(static_cast<size_t>(impl_->series_length(
      name, [](DType d) { return d == DType::kInt64 || d == DType::kUInt8; }, "integer")));
  impl_->read(name, 0, static_cast<int64_t>(values.size()), std::nullopt, H5T_NATIVE_INT64,
              values.data());
  return values;
}

std::vector<double> CheckpointReader::read_series_double(const std::string& path) const {
  const std::string name = checkpoint_hdf5::normalize_path(path);
  std::vector<double> values(static_cast<size_t>(impl_->series_length(
      name, [](DType) { return true; }, "numeric")));
  impl_->read(name, 0, static_cast<int64_t>(values.size()), std::nullopt, H5T_NATIVE_DOUBLE,
              values.data());
  return values;
}

std::vector<uint8_t> CheckpointReader::read_blob(const std::string& path) const {
  const std::string name = checkpoint_hdf5::normalize_path(path);
  std::vector<uint8_t> bytes(static_cast<size_t>(impl_->series_length(
      name, [](DType d) { return d == DType::kUInt8; }, "uint8")));
  impl_->read(name, 0, static_cast<int64_t>(bytes.size()), DType::kUInt8, H5I_INVALID_HID,
              bytes.data());
  return bytes;
}

std::vector<CheckpointProblem> CheckpointReader::verify_attributes() const {
  if (impl_->format_version < 2) return {};
  const char* label = "/";
  try {
    if (!contains(checkpoint::kAttributesChecksum)) {
      return {{label, "has no checksum of its root attributes (" +
                          std::string(checkpoint::kAttributesChecksum) + ")"}};
    }
    const std::vector<uint8_t> stored = read_blob(checkpoint::kAttributesChecksum);
    std::map<std::string, AttrValue> attrs;
    for (const std::string& name : attr_names()) attrs[name] = attr(name);
    if (std::string(stored.begin(), stored.end()) != checkpoint_hdf5::attributes_digest(attrs)) {
      return {{label,
               "its root attributes (config, cell_id, tokenizer_hash, step, ...) do not match "
               "their checksum: they were changed after the checkpoint was written"}};
    }
  } catch (const DataError& e) {
    return {{label, e.what()}};
  }
  return {};
}

std::vector<CheckpointProblem> CheckpointReader::verify() const {
  std::vector<CheckpointProblem> problems = verify_attributes();
  std::vector<std::string> names;
  try {
    names = datasets();
  } catch (const DataError& e) {
    return {{"/", e.what()}};
  }
  std::vector<char> buffer;
  for (const std::string& name : names) {
    // Read in the stored type itself (no conversion: only the bytes' integrity matters), a few
    // chunks at a time.
    h5::Dataset dataset;
    h5::Datatype memory;
    h5::PropList dcpl;
    std::vector<int64_t> shape;
    try {
      const std::string& file = impl_->path;
      const std::string label = dataset_label(name);
      dataset = h5::Dataset(h5::check(H5Dopen2(impl_->file.get(), name.c_str(), H5P_DEFAULT), file,
                                      label, "open it"));
      memory = h5::Datatype(h5::check(H5Dget_type(dataset.get()), file, label, "read its type"));
      dcpl = h5::PropList(
          h5::check(H5Dget_create_plist(dataset.get()), file, label, "read its layout"));
      shape = shape_of(dataset.get(), file, label);
    } catch (const DataError& e) {
      problems.push_back({name, e.what()});
      continue;
    }
    const int64_t rows = shape.empty() ? 1 : shape[0];
    int64_t row_elements = 1;
    for (size_t i = 1; i < shape.size(); ++i) row_elements *= shape[i];
    const int64_t row_bytes = row_elements * static_cast<int64_t>(H5Tget_size(memory.get()));
    if (rows == 0 || row_bytes == 0) continue;
    if (!has_fletcher32(dcpl.get())) {
      // Journey checksums every non-empty dataset; without one, flipped bits read back as
      // plausible numbers.
      problems.push_back({name,
                          "has no Fletcher32 checksum, so its bytes cannot be verified "
                          "(written or rewritten by another tool)"});
    }
    // Blocks of whole chunks as the digests count them (a contiguous dataset is one chunk).
    const int64_t chunk_rows = checkpoint_hdf5::digest_rows(dataset.get(), TensorInfo{{}, shape});
    const int64_t block_rows =
        std::max<int64_t>(1, kVerifyBlockBytes / row_bytes / chunk_rows) * chunk_rows;
    std::optional<std::vector<Digest>> digests;
    if (impl_->format_version >= 3) {
      try {
        digests = checkpoint_hdf5::read_chunk_digests(dataset.get(), TensorInfo{{}, shape},
                                                      impl_->path, name);
        if (!digests) {
          problems.push_back({name, "has no SHA-256 digests (attribute '" +
                                        std::string(checkpoint::kChunkDigestsAttr) +
                                        "'), so changes Fletcher32 misses go unseen "
                                        "(written or rewritten by another tool)"});
        }
      } catch (const DataError& e) {
        problems.push_back({name, e.what()});
      }
    }
    buffer.resize(static_cast<size_t>(std::min(block_rows, rows) * row_bytes));
    std::string first_failure;
    int64_t failed_chunks = 0;
    for (int64_t begin = 0; begin < rows; begin += block_rows) {
      const int64_t count = std::min(block_rows, rows - begin);
      std::string cause =
          read_row_range(dataset.get(), shape, begin, count, memory.get(), buffer.data());
      if (cause.empty() && digests) {
        // The stored type is the digests' type on a little-endian host; block_rows is a
        // multiple of chunk_rows, so the block holds whole chunks.
        for (int64_t c = begin; c < begin + count; c += chunk_rows) {
          const int64_t n = std::min(chunk_rows, begin + count - c);
          const Digest digest =
              checkpoint_hdf5::sha256(buffer.data() + (c - begin) * row_bytes, n * row_bytes);
          if (digest == (*digests)[static_cast<size_t>(c / chunk_rows)]) continue;
          if (failed_chunks++ == 0) {
            first_failure = rows_text(c, n) +
                            " do not match their SHA-256 digest: the file was "
                            "changed after it was written";
          }
        }
      }
      if (cause.empty()) continue;
      // Pinpoint the unreadable chunks of this block.
      const int64_t failed_before = failed_chunks;
      for (int64_t c = begin; c < begin + count; c += chunk_rows) {
        const int64_t n = std::min(chunk_rows, begin + count - c);
        std::string chunk_cause =
            read_row_range(dataset.get(), shape, c, n, memory.get(), buffer.data());
        if (chunk_cause.empty()) continue;
        if (failed_chunks++ == 0) {
          first_failure = "cannot read " + rows_text(c, n) + " (HDF5: " + chunk_cause + ")";
        }
      }
      if (failed_chunks == failed_before && failed_chunks++ == 0) {
        first_failure = "cannot read " + rows_text(begin, count) + " (HDF5: " + cause + ")";
      }
    }
    if (failed_chunks > 0) {
      problems.push_back(
          {name, first_failure + (failed_chunks > 1 ? "; " + std::to_string(failed_chunks) +
                                                          " chunks are unreadable in all"
                                                    : "")});
    }
  }
  return problems;
}

}  // namespace journey
