// Runs a shell command for CLI tests: its combined stdout+stderr and exit code.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace journey::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string output;
};

inline ProcessResult run_process(const std::string& command) {
  ProcessResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// The journey binary under test, with arguments appended.
inline std::string journey_command(const std::string& args) {
  return std::string(JOURNEY_BINARY) + " " + args;
}

}  // namespace journey::testing
