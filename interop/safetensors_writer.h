// Writing a safetensors file (huggingface/safetensors, the format Hugging Face models are
// shipped in): an 8-byte little-endian header length N, N bytes of JSON mapping each tensor's
// name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data that
// follows), padded with spaces to a multiple of 8, then the tensors' bytes back to back,
// row-major and little-endian. An optional "__metadata__" maps strings to strings.
//
// No Debian package reads or writes the format from C++, and it is this small: a writer of
// ~60 lines beats a dependency. Tensors are held in memory until write(), so a model is
// exported with its size in RAM once. The file is written atomically (io/atomic_file.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace journey {

class SafetensorsWriter {
 public:
  // dtype: "F32", "I32" or "I64"; `bytes` holds prod(shape) elements of it.
  void add(const std::string& name, const std::string& dtype, std::vector<int64_t> shape,
           std::vector<char> bytes);
  void add_f32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v);
  void add_i32(const std::string& name, const std::vector<int32_t>& v);
  void add_i64(const std::string& name, const std::vector<int64_t>& v);
  void set_metadata(const std::string& key, const std::string& value);

  // Writes everything added to `path` atomically; DataError when that fails.
  void write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::vector<char> bytes;
  };
  std::vector<Tensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace journey
