// Atomic replacement of a file: write it under a temporary name, then commit.
//
// AtomicFile picks a unique temporary path in the final path's directory, so that rename(2)
// stays on one filesystem and is atomic: ".<final name>.tmp-<pid>-<random>". The caller
// creates and writes that file by any means (stdio, HDF5...) and closes it, then calls
// commit(), which fsyncs the file, renames it over the final path and fsyncs the directory.
// Guarantees:
//   - at every instant the final path holds either the previous complete file (or nothing,
//     if there was none) or the new complete file, whatever crashes when;
//   - once commit() has returned, the new file survives a power cut;
//   - an AtomicFile destroyed without commit() removes its temporary file; a crashed process
//     leaves it behind as a dot-file, which directory scans (io/checkpoint_dir.h) ignore.
// Failing system calls throw DataError naming the path and the system's reason.
#pragma once

#include <string>
#include <string_view>

namespace journey {

class AtomicFile {
 public:
  explicit AtomicFile(std::string final_path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& final_path() const { return final_path_; }
  // Where to write. Nothing exists there until the caller creates it.
  const std::string& temp_path() const { return temp_path_; }
  bool committed() const { return committed_; }

  // fsync(temp), rename(temp, final), fsync(directory). The temporary file must be closed.
  void commit();

 private:
  std::string final_path_;
  std::string temp_path_;
  bool committed_ = false;
};

// Writes `contents` to `path` through an AtomicFile: the small-file case (tables, ledgers).
void write_file_atomically(const std::string& path, std::string_view contents);

// Flushes a file or a directory (its entries) to stable storage; DataError on failure.
void fsync_path(const std::string& path);

}  // namespace journey
