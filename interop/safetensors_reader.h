// Reading a safetensors file (the format interop/safetensors_writer.h writes): an 8-byte
// little-endian header length N, N bytes of JSON mapping each tensor's name to {"dtype",
// "shape", "data_offsets": [begin, end]}, an optional "__metadata__" of strings, then the
// tensors' bytes.
//
// Contract: open() reads the whole file into memory and validates the header against the
// file before any tensor is handed out: the header length fits the file, the header is a JSON
// object, every tensor has a known dtype (F32, F16, BF16, I64, I32, U8, BOOL and the other
// safetensors integer and float types), a shape of non-negative integers, offsets with
// begin <= end <= the data's size and end - begin = prod(shape) * dtype size, and no two
// tensors overlap. A file that is missing, truncated, foreign or lies about any of that is a
// DataError naming the file and (where there is one) the tensor; nothing is read lazily, so
// no later call fails on the file's bytes.
//
// read_f32() converts F32, BF16 and F16 to float32 exactly (every BF16 and F16 value is a
// float32); read_i64() accepts I64 and I32. Asking for a tensor the file does not hold, or
// of an unsupported dtype, is a DataError naming the file and the tensor.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace journey {

class SafetensorsReader {
 public:
  struct Tensor {
    std::string dtype;  // As written: "F32", "BF16", ...
    std::vector<int64_t> shape;
    size_t begin = 0, end = 0;  // Into the data section.
    int64_t elements() const;
  };

  static SafetensorsReader open(const std::string& path);

  const std::string& path() const { return path_; }
  bool contains(const std::string& name) const { return tensors_.count(name) > 0; }
  const Tensor& tensor(const std::string& name) const;  // DataError when absent.
  std::vector<std::string> names() const;               // Sorted.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  std::vector<float> read_f32(const std::string& name) const;
  std::vector<int64_t> read_i64(const std::string& name) const;

 private:
  std::string path_;
  std::string data_;  // The bytes after the header.
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace journey
