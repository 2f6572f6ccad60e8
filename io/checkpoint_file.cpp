// DType, TensorInfo and the HDF5 mapping shared by checkpoint_writer.cpp and
// checkpoint_reader.cpp.
#include "io/checkpoint_file.h"

#include <cstring>
#include <stdexcept>

#include "common/named_values.h"
#include "io/checkpoint_hdf5.h"
#include "io/sha256.h"

namespace journey {

namespace {

// Every DType: its name (in errors and `journey inspect`) and its bytes per element.
struct DTypeRow {
  const char* name;
  DType value;
  size_t size;
};
constexpr DTypeRow kDTypes[] = {
    {"float32", DType::kFloat32, 4},
    {"uint8", DType::kUInt8, 1},
    {"int64", DType::kInt64, 8},
    {"float64", DType::kFloat64, 8},
};

}  // namespace

const char* dtype_name(DType dtype) {
  return name_of(kDTypes, dtype, "?");
}

size_t dtype_size(DType dtype) {
  for (const DTypeRow& row : kDTypes) {
    if (row.value == dtype) return row.size;
  }
  return 0;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(shape[i]);
  }
  return text + "]";
}

int64_t TensorInfo::row_elements() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

namespace checkpoint_hdf5 {

hid_t file_type(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return H5T_IEEE_F32LE;
    case DType::kUInt8:
      return H5T_STD_U8LE;
    case DType::kInt64:
      return H5T_STD_I64LE;
    case DType::kFloat64:
      return H5T_IEEE_F64LE;
  }
  return H5I_INVALID_HID;
}

hid_t memory_type(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return H5T_NATIVE_FLOAT;
    case DType::kUInt8:
      return H5T_NATIVE_UINT8;
    case DType::kInt64:
      return H5T_NATIVE_INT64;
    case DType::kFloat64:
      return H5T_NATIVE_DOUBLE;
  }
  return H5I_INVALID_HID;
}

std::optional<DType> dtype_of(hid_t type) {
  const size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      if (size == 4) return DType::kFloat32;
      if (size == 8) return DType::kFloat64;
      return std::nullopt;
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      if (size == 1 && !is_signed) return DType::kUInt8;
      if (size == 8 && is_signed) return DType::kInt64;
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

h5::PropList file_access(const std::string& file) {
  h5::PropList fapl(h5::check(H5Pcreate(H5P_FILE_ACCESS), file, "", "create file properties"));
  h5::check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_V110), file, "",
            "select the HDF5 1.10 file format");
  h5::check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_SEMI), file, "", "set the close degree");
  h5::check(H5Pset_file_locking(fapl.get(), true, true), file, "", "set file locking");
  return fapl;
}

std::string normalize_path(const std::string& path) {
  size_t begin = path.find_first_not_of('/');
  if (begin == std::string::npos) {
    throw std::invalid_argument("checkpoint dataset path '" + path + "' is empty");
  }
  return path.substr(begin);
}

std::string dataset_label(const std::string& path) {
  return "dataset '" + path + "'";
}

std::string attributes_digest(const std::map<std::string, CheckpointReader::AttrValue>& attrs) {
  std::string text;
  for (const auto& [name, value] : attrs) {
    text += name;
    text += '\0';
    if (const int64_t* i = std::get_if<int64_t>(&value)) {
      text += "i" + std::to_string(*i);
    } else if (const double* d = std::get_if<double>(&value)) {
      uint64_t bits = 0;
      std::memcpy(&bits, d, sizeof bits);
      text += "d" + std::to_string(bits);
    } else {
      text += "s" + std::get<std::string>(value);
    }
    text += '\0';
  }
  return sha256_hex(text);
}

}  // namespace checkpoint_hdf5
}  // namespace journey
