#include "io/table_file.h"

#include <algorithm>

#include "common/error.h"

#include "io/atomic_file.h"
#include "io/hdf5_handles.h"

namespace journey {

// Columns with at least this many values are compressed.
constexpr size_t kCompressFrom = 1024;

struct TableFileWriter::Impl {
  explicit Impl(const std::string& final_path) : target(final_path) {}

  const std::string& name() const { return target.final_path(); }

  h5::PropList link_creation() {
    h5::PropList plist(h5::check(H5Pcreate(H5P_LINK_CREATE), name(), "", "create a property list"));
    H5Pset_create_intermediate_group(plist.get(), 1);
    return plist;
  }

  void write(const std::string& path, hid_t type, size_t count, const void* data) {
    h5::silence_error_printing();
    const hsize_t dims[1] = {count};
    h5::Dataspace space(
        h5::check(H5Screate_simple(1, dims, nullptr), name(), path, "create a dataspace"));
    h5::PropList links = link_creation();
    // Long columns (per-step histories) are chunked and compressed: they are smooth series
    // that shrink several-fold, and results.h5 is meant to be small enough to share.
    h5::PropList create(
        h5::check(H5Pcreate(H5P_DATASET_CREATE), name(), path, "create a property list"));
    if (count >= kCompressFrom && H5Tis_variable_str(type) <= 0) {
      const hsize_t chunk[1] = {std::min<hsize_t>(count, 1 << 14)};
      H5Pset_chunk(create.get(), 1, chunk);
      H5Pset_shuffle(create.get());
      H5Pset_deflate(create.get(), 4);
    }
    h5::Dataset dataset(h5::check(H5Dcreate2(file.get(), path.c_str(), type, space.get(),
                                             links.get(), create.get(), H5P_DEFAULT),
                                  name(), "dataset '" + path + "'", "create"));
    if (count > 0) {
      h5::check(H5Dwrite(dataset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), name(),
                "dataset '" + path + "'", "write");
    }
  }

  AtomicFile target;
  h5::File file;
};

TableFileWriter::TableFileWriter(const std::string& final_path)
    : impl_(std::make_unique<Impl>(final_path)) {
  h5::silence_error_printing();
  impl_->file = h5::File(h5::check(
      H5Fcreate(impl_->target.temp_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
      final_path, "", "create"));
}

TableFileWriter::~TableFileWriter() = default;

void TableFileWriter::write_column(const std::string& path, const std::vector<double>& values) {
  impl_->write(path, H5T_NATIVE_DOUBLE, values.size(), values.data());
}

void TableFileWriter::write_column(const std::string& path, const std::vector<int64_t>& values) {
  impl_->write(path, H5T_NATIVE_INT64, values.size(), values.data());
}

void TableFileWriter::write_column(const std::string& path,
                                   const std::vector<std::string>& values) {
  h5::Datatype type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  std::vector<const char*> pointers;
  for (const std::string& v : values) pointers.push_back(v.c_str());
  impl_->write(path, type.get(), values.size(), pointers.data());
}

void TableFileWriter::set_attr(const std::string& name, const std::string& value) {
  h5::Datatype type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  h5::Dataspace space(H5Screate(H5S_SCALAR));
  h5::Attribute attr(h5::check(H5Acreate2(impl_->file.get(), name.c_str(), type.get(), space.get(),
                                          H5P_DEFAULT, H5P_DEFAULT),
                               impl_->name(), "attribute '" + name + "'", "create"));
  const char* text = value.c_str();
  h5::check(H5Awrite(attr.get(), type.get(), &text), impl_->name(), "attribute '" + name + "'",
            "write");
}

void TableFileWriter::commit() {
  h5::check(impl_->file.close(), impl_->name(), "", "close");
  impl_->target.commit();
}

struct TableFileReader::Impl {
  std::string path;
  h5::File file;
};

TableFileReader::TableFileReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  h5::silence_error_printing();
  impl_->path = path;
  impl_->file = h5::File(
      h5::check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, "", "open as HDF5"));
}

TableFileReader::~TableFileReader() = default;

std::string TableFileReader::attr(const std::string& name) const {
  h5::silence_error_printing();
  if (H5Aexists(impl_->file.get(), name.c_str()) <= 0) return "";
  h5::Attribute attr(h5::check(H5Aopen(impl_->file.get(), name.c_str(), H5P_DEFAULT), impl_->path,
                               "attribute '" + name + "'", "open"));
  h5::Datatype stored(H5Aget_type(attr.get()));
  if (!stored.valid() || H5Tget_class(stored.get()) != H5T_STRING ||
      H5Tis_variable_str(stored.get()) <= 0) {
    return "";
  }
  h5::Dataspace space(H5Aget_space(attr.get()));
  if (!space.valid() || H5Sget_simple_extent_npoints(space.get()) != 1) return "";
  h5::Datatype type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5Tget_cset(stored.get()));  // HDF5 converts no character sets.
  char* text = nullptr;
  h5::check(H5Aread(attr.get(), type.get(), &text), impl_->path, "attribute '" + name + "'",
            "read");
  std::string value = text != nullptr ? text : "";
  H5free_memory(text);
  return value;
}

bool TableFileReader::has(const std::string& path) const {
  h5::silence_error_printing();
  // H5Lexists needs every link on the way to exist, so walk them one at a time.
  for (size_t end = path.find('/');; end = path.find('/', end + 1)) {
    const std::string prefix = path.substr(0, end);
    if (H5Lexists(impl_->file.get(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (end == std::string::npos) return true;
  }
}

std::vector<double> TableFileReader::read_numbers(const std::string& path) const {
  h5::silence_error_printing();
  const std::string object = "column '" + path + "'";
  if (!has(path)) throw DataError(impl_->path + ": no " + object);
  h5::Dataset dataset(h5::check(H5Dopen2(impl_->file.get(), path.c_str(), H5P_DEFAULT), impl_->path,
                                object, "open"));
  h5::Datatype type(h5::check(H5Dget_type(dataset.get()), impl_->path, object, "read the type"));
  const H5T_class_t kind = H5Tget_class(type.get());
  if (kind != H5T_INTEGER && kind != H5T_FLOAT) {
    throw DataError(impl_->path + ", " + object + ": not numeric");
  }
  h5::Dataspace space(
      h5::check(H5Dget_space(dataset.get()), impl_->path, object, "read the shape"));
  if (H5Sget_simple_extent_ndims(space.get()) != 1) {
    throw DataError(impl_->path + ", " + object + ": not one-dimensional");
  }
  hsize_t count = 0;
  H5Sget_simple_extent_dims(space.get(), &count, nullptr);
  if (count > kMaxColumn) {
    throw DataError(impl_->path + ", " + object + ": " + std::to_string(count) +
                    " values; expected at most " + std::to_string(kMaxColumn));
  }
  std::vector<double> values(count);
  if (count > 0) {
    h5::check(
        H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
        impl_->path, object, "read");
  }
  return values;
}

}  // namespace journey
