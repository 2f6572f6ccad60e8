// Internal to io/: how checkpoint_file.h's types map onto HDF5, shared by the writer, the
// reader and the tests. Element types are stored little-endian whatever the host.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "io/checkpoint_file.h"
#include "io/hdf5_handles.h"

namespace journey::checkpoint_hdf5 {

hid_t file_type(DType dtype);    // e.g. H5T_IEEE_F32LE
hid_t memory_type(DType dtype);  // e.g. H5T_NATIVE_FLOAT
// The DType of a stored HDF5 type, or nothing for any other type.
std::optional<DType> dtype_of(hid_t type);

// File access properties for checkpoints: the 1.10 file format (checksummed metadata),
// strict close (closing a file with objects still open is an error, not a silent delay), and
// file locking that is skipped where the filesystem does not support it (some cluster
// filesystems).
h5::PropList file_access(const std::string& file);

// "params/x" from "/params/x" or "params/x"; std::invalid_argument when empty.
std::string normalize_path(const std::string& path);

// "dataset 'params/x'", for error sentences.
std::string dataset_label(const std::string& path);

// The hex SHA-256 of root attributes: each as name, type letter and value (integers in
// decimal, doubles by their bits, strings as they are), in name order.
std::string attributes_digest(const std::map<std::string, CheckpointReader::AttrValue>& attrs);

}  // namespace journey::checkpoint_hdf5
