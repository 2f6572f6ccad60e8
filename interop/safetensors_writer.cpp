#include "interop/safetensors_writer.h"

#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "io/atomic_file.h"

namespace journey {
namespace {

size_t dtype_size(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "I64") return 8;
  throw std::invalid_argument("safetensors dtype " + dtype + " is not written here");
}

template <class T>
std::vector<char> bytes_of(const std::vector<T>& values) {
  std::vector<char> bytes(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;  // x86-64 and aarch64 are little-endian, as the format is.
}

}  // namespace

void SafetensorsWriter::add(const std::string& name, const std::string& dtype,
                            std::vector<int64_t> shape, std::vector<char> bytes) {
  int64_t elements = 1;
  for (int64_t d : shape) elements *= d;
  if (bytes.size() != static_cast<size_t>(elements) * dtype_size(dtype)) {
    throw std::invalid_argument("safetensors tensor " + name + ": size does not match its shape");
  }
  tensors_.push_back({name, dtype, std::move(shape), std::move(bytes)});
}

void SafetensorsWriter::add_f32(const std::string& name, std::vector<int64_t> shape,
                                const std::vector<float>& v) {
  add(name, "F32", std::move(shape), bytes_of(v));
}

void SafetensorsWriter::add_i32(const std::string& name, const std::vector<int32_t>& v) {
  add(name, "I32", {static_cast<int64_t>(v.size())}, bytes_of(v));
}

void SafetensorsWriter::add_i64(const std::string& name, const std::vector<int64_t>& v) {
  add(name, "I64", {static_cast<int64_t>(v.size())}, bytes_of(v));
}

void SafetensorsWriter::set_metadata(const std::string& key, const std::string& value) {
  metadata_[key] = value;
}

void SafetensorsWriter::write(const std::string& path) const {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  size_t offset = 0;
  for (const Tensor& t : tensors_) {
    header[t.name] = {{"dtype", t.dtype},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // The data starts 8-byte aligned.
  std::string file(8, '\0');
  const uint64_t length = text.size();
  std::memcpy(file.data(), &length, 8);
  file += text;
  file.reserve(file.size() + offset);
  for (const Tensor& t : tensors_) file.append(t.bytes.data(), t.bytes.size());
  write_file_atomically(path, file);
}

}  // namespace journey
