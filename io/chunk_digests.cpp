#include "io/chunk_digests.h"

#include <openssl/evp.h>

#include <algorithm>

#include "common/error.h"
#include "io/checkpoint_hdf5.h"

namespace journey::checkpoint_hdf5 {

Digest sha256(const void* data, size_t bytes) {
  Digest digest{};
  unsigned length = 0;
  EVP_Digest(data, bytes, digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

std::string read_row_range(hid_t dataset, const std::vector<int64_t>& shape, int64_t row_begin,
                           int64_t row_count, hid_t memory_type, void* out) {
  h5::Dataspace file_space(H5Dget_space(dataset));
  if (!file_space.valid()) return h5::take_error_text();
  // The memory space has the selection's own shape (see checkpoint_writer.cpp).
  std::vector<hsize_t> count(shape.begin(), shape.end());
  if (!shape.empty()) {
    std::vector<hsize_t> start(shape.size(), 0);
    start[0] = static_cast<hsize_t>(row_begin);
    count[0] = static_cast<hsize_t>(row_count);
    if (H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                            nullptr) < 0) {
      return h5::take_error_text();
    }
  }
  if (std::find(count.begin(), count.end(), 0) != count.end()) return "";
  h5::Dataspace memory_space(
      count.empty() ? H5Screate(H5S_SCALAR)
                    : H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  if (!memory_space.valid()) return h5::take_error_text();
  if (H5Dread(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, out) < 0) {
    std::string cause = h5::take_error_text();
    return cause.empty() ? "read failed" : cause;
  }
  return "";
}

int64_t digest_rows(hid_t dataset, const TensorInfo& info) {
  h5::PropList dcpl(H5Dget_create_plist(dataset));
  if (dcpl.valid() && H5Pget_layout(dcpl.get()) == H5D_CHUNKED && !info.shape.empty()) {
    std::vector<hsize_t> chunk(info.shape.size());
    if (H5Pget_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()) > 0 &&
        chunk[0] > 0) {
      return static_cast<int64_t>(chunk[0]);
    }
  }
  return std::max<int64_t>(1, info.rows());
}

h5::Datatype digest_memory_type(hid_t dataset, DType dtype) {
  return h5::Datatype(dtype == DType::kUInt8 ? H5Dget_type(dataset) : H5Tcopy(memory_type(dtype)));
}

Digest digest_chunk_in_file(hid_t dataset, const TensorInfo& info, int64_t chunk,
                            const std::string& file, const std::string& path) {
  const int64_t rows_per_chunk = digest_rows(dataset, info);
  const int64_t begin = chunk * rows_per_chunk;
  const int64_t count = std::min(rows_per_chunk, info.rows() - begin);
  h5::Datatype memory = digest_memory_type(dataset, info.dtype);
  h5::check(memory.get(), file, dataset_label(path), "read its type");
  std::vector<char> buffer(static_cast<size_t>(count) * info.row_bytes());
  const std::string cause =
      read_row_range(dataset, info.shape, begin, count, memory.get(), buffer.data());
  if (!cause.empty()) {
    throw DataError(file + ", " + dataset_label(path) +
                    ": cannot read it back for its digests (HDF5: " + cause + ")");
  }
  return sha256(buffer.data(), buffer.size());
}

void write_chunk_digests(hid_t dataset, const std::vector<Digest>& digests, const std::string& file,
                         const std::string& path) {
  const std::string label = dataset_label(path);
  const char* name = checkpoint::kChunkDigestsAttr;
  if (h5::check(H5Aexists(dataset, name), file, label, "look up its digests") > 0) {
    h5::check(H5Adelete(dataset, name), file, label, "replace its digests");
  }
  const hsize_t dims[2] = {static_cast<hsize_t>(digests.size()), sizeof(Digest)};
  h5::Dataspace space(h5::check(H5Screate_simple(2, dims, nullptr), file, label, "store digests"));
  h5::Attribute attr(
      h5::check(H5Acreate2(dataset, name, H5T_STD_U8LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                file, label, "store its digests"));
  h5::check(H5Awrite(attr.get(), H5T_NATIVE_UINT8, digests.data()), file, label,
            "store its digests");
}

void write_chunk_digests(hid_t dataset, const TensorInfo& info, const std::string& file,
                         const std::string& path) {
  const int64_t rows_per_chunk = digest_rows(dataset, info);
  std::vector<Digest> digests(
      static_cast<size_t>((info.rows() + rows_per_chunk - 1) / rows_per_chunk));
  for (size_t c = 0; c < digests.size(); ++c) {
    digests[c] = digest_chunk_in_file(dataset, info, static_cast<int64_t>(c), file, path);
  }
  write_chunk_digests(dataset, digests, file, path);
}

std::optional<std::vector<Digest>> read_chunk_digests(hid_t dataset, const TensorInfo& info,
                                                      const std::string& file,
                                                      const std::string& path) {
  const std::string label = dataset_label(path);
  const char* name = checkpoint::kChunkDigestsAttr;
  if (h5::check(H5Aexists(dataset, name), file, label, "look up its digests") <= 0) {
    return std::nullopt;
  }
  h5::Attribute attr(h5::check(H5Aopen(dataset, name, H5P_DEFAULT), file, label, "open digests"));
  h5::Dataspace space(h5::check(H5Aget_space(attr.get()), file, label, "read its digests"));
  h5::Datatype type(h5::check(H5Aget_type(attr.get()), file, label, "read its digests"));
  hsize_t dims[2] = {0, 0};
  const int64_t rows_per_chunk = digest_rows(dataset, info);
  const int64_t chunks = (info.rows() + rows_per_chunk - 1) / rows_per_chunk;
  if (H5Sget_simple_extent_ndims(space.get()) != 2 ||
      H5Sget_simple_extent_dims(space.get(), dims, nullptr) != 2 ||
      dims[0] != static_cast<hsize_t>(chunks) || dims[1] != sizeof(Digest) ||
      checkpoint_hdf5::dtype_of(type.get()) != DType::kUInt8) {
    throw DataError(file + ", " + label + ": its attribute '" + name + "' is not uint8 [" +
                    std::to_string(chunks) + ", 32] (one SHA-256 per chunk of " +
                    std::to_string(rows_per_chunk) + " rows)");
  }
  std::vector<Digest> digests(static_cast<size_t>(chunks));
  h5::check(H5Aread(attr.get(), H5T_NATIVE_UINT8, digests.data()), file, label, "read its digests");
  return digests;
}

}  // namespace journey::checkpoint_hdf5
