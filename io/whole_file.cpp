#include "io/whole_file.h"

#include <fstream>
#include <iterator>

namespace journey {

std::string read_file_or_empty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace journey
