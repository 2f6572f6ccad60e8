#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "common/error.h"

namespace journey {
namespace {

std::string system_reason() {
  return std::strerror(errno);
}

// A name no other writer (this process, another process, a crashed earlier one with a
// recycled pid) is using: pid plus 64 random bits.
std::string unique_temp_path(const std::string& final_path) {
  std::filesystem::path final(final_path);
  thread_local std::mt19937_64 random{std::random_device{}()};
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, ".tmp-%ld-%016llx", static_cast<long>(getpid()),
                static_cast<unsigned long long>(random()));
  return (final.parent_path() / ("." + final.filename().string() + suffix)).string();
}

std::string directory_of(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

}  // namespace

AtomicFile::AtomicFile(std::string final_path)
    : final_path_(std::move(final_path)), temp_path_(unique_temp_path(final_path_)) {}

AtomicFile::~AtomicFile() {
  if (!committed_) ::unlink(temp_path_.c_str());
}

void AtomicFile::commit() {
  fsync_path(temp_path_);
  if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    throw DataError("cannot rename " + temp_path_ + " to " + final_path_ + ": " + system_reason());
  }
  committed_ = true;
  fsync_path(directory_of(final_path_));
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw DataError("cannot open " + path + " to sync it: " + system_reason());
  if (::fsync(fd) != 0) {
    std::string reason = system_reason();
    ::close(fd);
    throw DataError("cannot sync " + path + " to disk: " + reason);
  }
  ::close(fd);
}

void write_file_atomically(const std::string& path, std::string_view contents) {
  AtomicFile file(path);
  int fd = ::open(file.temp_path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw DataError("cannot create " + file.temp_path() + ": " + system_reason());
  const char* data = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string reason = system_reason();
      ::close(fd);
      throw DataError("cannot write " + file.temp_path() + ": " + reason);
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  if (::close(fd) != 0)
    throw DataError("cannot write " + file.temp_path() + ": " + system_reason());
  file.commit();
}

}  // namespace journey
