// Reading what a test's subject wrote, shared by every test binary.
#pragma once

#include <fstream>
#include <iterator>
#include <string>

namespace journey::testing {

// The whole file, byte for byte; empty when it cannot be read.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace journey::testing
