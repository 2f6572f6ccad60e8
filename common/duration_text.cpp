#include "common/duration_text.h"

#include <cstdio>

namespace journey {

std::string duration_text(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  char buf[32];
  const long s = static_cast<long>(seconds);
  std::snprintf(buf, sizeof buf, "%ldh%02ldm%02lds", s / 3600, s % 3600 / 60, s % 60);
  return buf;
}

}  // namespace journey
