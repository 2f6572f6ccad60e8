// A small HDF5 file of named 1-D columns and string attributes: the sweep's results.h5
// (docs/results-format.md). Each column is a dataset at its path ("cells/n_avg",
// "histories/<cell>/loss"); strings are variable-length UTF-8, so h5py reads them with
// .asstr(). The file is written under a temporary name and renamed on commit()
// (io/atomic_file.h): readers see the old table or the new one, never half of one.
// TableFileReader reads the numeric columns back (`journey report` of a results directory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace journey {

class TableFileWriter {
 public:
  explicit TableFileWriter(const std::string& final_path);
  ~TableFileWriter();
  TableFileWriter(const TableFileWriter&) = delete;
  TableFileWriter& operator=(const TableFileWriter&) = delete;

  // Intermediate groups are created as needed.
  void write_column(const std::string& path, const std::vector<double>& values);
  void write_column(const std::string& path, const std::vector<int64_t>& values);
  void write_column(const std::string& path, const std::vector<std::string>& values);
  void set_attr(const std::string& name, const std::string& value);  // On the root.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Errors: DataError naming the file, and the column where there is one: a file that is not
// HDF5 or cannot be read, a column that is missing, not 1-D, not numeric or longer than
// kMaxColumn values.
class TableFileReader {
 public:
  static constexpr size_t kMaxColumn = size_t{1} << 27;

  explicit TableFileReader(const std::string& path);
  ~TableFileReader();
  TableFileReader(const TableFileReader&) = delete;
  TableFileReader& operator=(const TableFileReader&) = delete;

  // The root's variable-length string attribute `name`; empty when absent or of another type.
  std::string attr(const std::string& name) const;
  // Whether a column (or group) exists at `path` ("histories/<cell>/loss").
  bool has(const std::string& path) const;
  // A numeric column, converted to double by HDF5 (integer columns too).
  std::vector<double> read_numbers(const std::string& path) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace journey
