// Scratch files for the fuzz targets. The readers under test take paths, as the program hands
// them files, so each input is written to a file in a directory of the fuzzing process's own
// first.
//
// scratch_dir() is created on first use under $TMPDIR (or /tmp) and removed when the process
// exits normally; a process killed by a finding leaves it behind (a few small files).
// write_scratch_file() replaces the file each time; both abort on I/O failure, which is the
// harness's problem, not a finding. contract_broken() is the finding that is no crash: a reader
// returned without an error but broke a promise of its header.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace journey::fuzz {

inline const std::string& scratch_dir() {
  struct Dir {
    std::string path;
    Dir() {
      const char* tmp = std::getenv("TMPDIR");
      path = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/journey-fuzz-" +
             std::to_string(getpid());
      std::error_code ec;
      std::filesystem::create_directories(path, ec);
      if (ec) {
        std::fprintf(stderr, "fuzz: cannot create %s: %s\n", path.c_str(), ec.message().c_str());
        std::abort();
      }
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

inline std::string write_scratch_file(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

// Prints what broke and aborts, so that libFuzzer saves the input.
[[noreturn]] inline void contract_broken(const char* what) {
  std::fprintf(stderr, "fuzz: contract broken: %s\n", what);
  std::abort();
}

}  // namespace journey::fuzz
