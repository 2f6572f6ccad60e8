#include "common/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace journey::log {
namespace {

int g_rank = -1;

void emit(const char* level, const std::string& message) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  if (g_rank >= 0) {
    std::fprintf(stderr, "[journey %s rank %d] %s%s\n", stamp, g_rank, level, message.c_str());
  } else {
    std::fprintf(stderr, "[journey %s] %s%s\n", stamp, level, message.c_str());
  }
  std::fflush(stderr);
}

}  // namespace

void set_rank(int rank) {
  g_rank = rank;
}
void info(const std::string& message) {
  emit("", message);
}
void warn(const std::string& message) {
  emit("warning: ", message);
}
void error(const std::string& message) {
  emit("error: ", message);
}

}  // namespace journey::log
