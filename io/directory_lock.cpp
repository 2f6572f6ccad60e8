#include "io/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/executables.h"
#include "common/log.h"

namespace journey {
namespace {

std::string holder_description(int fd) {
  char buffer[512];
  const ssize_t n = pread(fd, buffer, sizeof buffer - 1, 0);
  std::string text(buffer, n > 0 ? static_cast<size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? "another process (it has not said which yet)" : text;
}

}  // namespace

std::string DirectoryLock::lock_file(const std::string& dir) {
  return dir + "/.journey.lock";
}

DirectoryLock DirectoryLock::acquire_waiting(const std::string& dir, const std::string& activity,
                                             double wait_seconds) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
  bool said = false;
  while (true) {
    try {
      return acquire(dir, activity);
    } catch (const UsageError& e) {
      if (std::chrono::steady_clock::now() >= deadline) throw;
      if (!said) {
        log::warn(std::string(e.what()) + "; trying again for up to " +
                  std::to_string(static_cast<int64_t>(wait_seconds)) +
                  " s (a crashed node's lock on a network filesystem lasts until its lease "
                  "expires)");
        said = true;
      }
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
  }
}

DirectoryLock DirectoryLock::acquire(const std::string& dir, const std::string& activity) {
  const std::string path = lock_file(dir);
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    throw DataError("cannot create the lock file " + path + ": " + std::strerror(errno));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string holder = holder_description(fd);
    close(fd);
    if (error == EWOULDBLOCK) {
      throw UsageError(dir + " is in use by " + holder + " (lock " + path +
                       "); wait for it to finish or stop it: two processes in one directory "
                       "would train the same runs twice");
    }
    throw DataError("cannot lock " + path + ": " + std::strerror(error));
  }
  char host[256] = "unknown-host";
  gethostname(host, sizeof host - 1);
  char started[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const std::string who = activity + " on host " + host + ", pid " + std::to_string(getpid()) +
                          ", since " + started + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, who.data(), who.size(), 0) < 0) {
    // The lock holds without the description; the next process's error is only vaguer.
  }
  DirectoryLock lock(fd);
  if (excludes_other_processes(dir) == false) {
    log::warn("the lock on " + dir + " (" + path +
              ") does not keep other processes out: this filesystem ignores flock(2), so a "
              "second journey started on this directory would not be refused; run one at a "
              "time (docs/slurm.md, \"Directory locks\")");
  }
  return lock;
}

std::optional<bool> DirectoryLock::excludes_other_processes(const std::string& dir) {
  const std::string flock_program = find_program("flock");
  if (flock_program.empty()) return std::nullopt;
  // -n: fail at once instead of waiting; -E 99: that failure's exit code; -s: a shared lock,
  // refused while the exclusive one is held, and never keeping a real holder out.
  constexpr int kRefused = 99;
  const int code = run_and_wait(
      {flock_program, "-n", "-s", "-E", std::to_string(kRefused), lock_file(dir), "true"});
  if (code == kRefused) return true;
  if (code == 0) return false;
  return std::nullopt;  // flock(1) itself failed (the file vanished, ...): no evidence.
}

void DirectoryLock::refuse_if_an_ancestor_is_locked(const std::string& dir,
                                                    const std::string& activity) {
  std::error_code ec;
  std::filesystem::path ancestor = std::filesystem::absolute(dir, ec).lexically_normal();
  while (ancestor.has_relative_path() && ancestor != ancestor.parent_path()) {
    ancestor = ancestor.parent_path();
    const std::string path = lock_file(ancestor.string());
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;  // No lock file (or not ours to read): nothing holds this one.
    // A shared lock is refused while anyone holds the exclusive one.
    const bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    const std::string holder = held ? holder_description(fd) : "";
    close(fd);
    if (held) {
      throw UsageError(activity + " in " + dir + " is refused: " + ancestor.string() +
                       " is in use by " + holder + " (lock " + path +
                       "), which writes the directories inside it; wait for it to finish or "
                       "stop it");
    }
  }
}

DirectoryLock::DirectoryLock(DirectoryLock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

DirectoryLock& DirectoryLock::operator=(DirectoryLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) close(fd_);  // Closing the only descriptor releases the flock.
}

}  // namespace journey
