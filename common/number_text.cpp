#include "common/number_text.h"

#include <charconv>

namespace journey {

std::string shortest_decimal(double value) {
  char buffer[32];
  const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

}  // namespace journey
