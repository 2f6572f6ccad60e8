#include "interop/safetensors_reader.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"

namespace journey {
namespace {

using json = nlohmann::json;

// Bytes per element of the safetensors dtypes; 0 for a name the format does not have.
size_t element_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"I64", 8}, {"U64", 8},     {"F64", 8}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

float from_bf16(uint16_t bits) {
  const uint32_t word = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &word, 4);
  return f;
}

float from_f16(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff, word;
  if (exponent == 0x1f) {
    word = sign | 0x7f800000 | (mantissa << 13);  // Inf and NaN.
  } else if (exponent != 0) {
    word = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    word = sign;
  } else {  // Subnormal: normalise.
    int shift = 0;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    word = sign | (static_cast<uint32_t>(113 - shift) << 23) | ((mantissa & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &word, 4);
  return f;
}

}  // namespace

int64_t SafetensorsReader::Tensor::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

SafetensorsReader SafetensorsReader::open(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError("cannot open safetensors file " + path);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw DataError("cannot read safetensors file " + path);
  auto fail = [&](const std::string& what) {
    return DataError("safetensors file " + path + " is corrupt or not safetensors: " + what);
  };
  if (file.size() < 8) throw fail("shorter than its 8-byte header length");
  uint64_t header_length = 0;
  std::memcpy(&header_length, file.data(), 8);  // Little-endian, as the hosts we build for.
  if (header_length > file.size() - 8) {
    throw fail("header length " + std::to_string(header_length) + " exceeds the file's " +
               std::to_string(file.size()) + " bytes (truncated?)");
  }
  json header;
  try {
    header = json::parse(file.begin() + 8, file.begin() + 8 + static_cast<long>(header_length));
  } catch (const json::exception& e) {
    throw fail(std::string("header is not JSON: ") + e.what());
  }
  if (!header.is_object()) throw fail("header is not a JSON object");
  SafetensorsReader reader;
  reader.path_ = path;
  reader.data_ = file.substr(8 + header_length);
  const size_t data_size = reader.data_.size();
  std::vector<std::pair<size_t, std::string>> extents;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      if (!it->is_object()) throw fail("__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) throw fail("__metadata__ value " + m.key() + " is not a string");
        reader.metadata_[m.key()] = m->get<std::string>();
      }
      continue;
    }
    auto bad = [&](const std::string& what) { return fail("tensor " + name + ": " + what); };
    const json& entry = *it;
    if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string() ||
        !entry.contains("shape") || !entry["shape"].is_array() || !entry.contains("data_offsets") ||
        !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2) {
      throw bad("expected {\"dtype\", \"shape\", \"data_offsets\": [begin, end]}");
    }
    Tensor t;
    t.dtype = entry["dtype"].get<std::string>();
    const size_t size = element_size(t.dtype);
    if (size == 0) throw bad("unknown dtype " + t.dtype);
    uint64_t elements = 1;
    for (const json& d : entry["shape"]) {
      if (!d.is_number_unsigned()) throw bad("shape holds something other than sizes");
      const uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && elements > (uint64_t{1} << 62) / dim) throw bad("shape is too large");
      elements *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    for (const json& o : entry["data_offsets"]) {
      if (!o.is_number_unsigned()) throw bad("data_offsets are not byte offsets");
    }
    const uint64_t begin = entry["data_offsets"][0].get<uint64_t>();
    const uint64_t end = entry["data_offsets"][1].get<uint64_t>();
    if (begin > end || end > data_size) {
      throw bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                "] lie outside the file's " + std::to_string(data_size) + " data bytes");
    }
    if (end - begin != elements * size) {
      throw bad("data_offsets hold " + std::to_string(end - begin) + " bytes, its shape and " +
                t.dtype + " need " + std::to_string(elements * size));
    }
    t.begin = begin;
    t.end = end;
    if (end > begin) extents.push_back({begin, name});
    reader.tensors_[name] = std::move(t);
  }
  std::sort(extents.begin(), extents.end());
  for (size_t i = 1; i < extents.size(); ++i) {
    if (reader.tensors_[extents[i - 1].second].end > extents[i].first) {
      throw fail("tensor " + extents[i].second + ": its bytes overlap tensor " +
                 extents[i - 1].second + "'s");
    }
  }
  return reader;
}

const SafetensorsReader::Tensor& SafetensorsReader::tensor(const std::string& name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    throw DataError("safetensors file " + path_ + " has no tensor " + name);
  }
  return it->second;
}

std::vector<std::string> SafetensorsReader::names() const {
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors_) names.push_back(name);
  return names;
}

std::vector<float> SafetensorsReader::read_f32(const std::string& name) const {
  const Tensor& t = tensor(name);
  const size_t n = static_cast<size_t>(t.elements());
  const char* bytes = data_.data() + t.begin;
  std::vector<float> out(n);
  if (t.dtype == "F32") {
    if (n > 0) std::memcpy(out.data(), bytes, n * 4);
  } else if (t.dtype == "BF16" || t.dtype == "F16") {
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, bytes + 2 * i, 2);
      out[i] = t.dtype == "BF16" ? from_bf16(h) : from_f16(h);
    }
  } else {
    throw DataError("safetensors file " + path_ + ": tensor " + name + " is " + t.dtype +
                    ", expected F32, BF16 or F16");
  }
  return out;
}

std::vector<int64_t> SafetensorsReader::read_i64(const std::string& name) const {
  const Tensor& t = tensor(name);
  const size_t n = static_cast<size_t>(t.elements());
  const char* bytes = data_.data() + t.begin;
  std::vector<int64_t> out(n);
  if (t.dtype == "I64") {
    if (n > 0) std::memcpy(out.data(), bytes, n * 8);
  } else if (t.dtype == "I32") {
    for (size_t i = 0; i < n; ++i) {
      int32_t v;
      std::memcpy(&v, bytes + 4 * i, 4);
      out[i] = v;
    }
  } else {
    throw DataError("safetensors file " + path_ + ": tensor " + name + " is " + t.dtype +
                    ", expected I64 or I32");
  }
  return out;
}

}  // namespace journey
