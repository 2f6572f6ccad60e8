// Runs a shell command for CLI tests: its combined stdout+stderr and exit code.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

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

// Starts a shell command in the background with its output in `log_path`; returns its pid.
inline pid_t start_process(const std::string& command, const std::string& log_path) {
  const std::string line = command + " > '" + log_path + "' 2>&1";
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Waits for a process started by start_process(); returns its exit code.
inline int wait_process(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The journey binary under test, with arguments appended.
inline std::string journey_command(const std::string& args) {
  return std::string(JOURNEY_BINARY) + " " + args;
}

}  // namespace journey::testing
