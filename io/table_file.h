// A small HDF5 file of named 1-D columns and string attributes: the sweep's results.h5
// (docs/results-format.md). Each column is a dataset at its path ("cells/n_avg",
// "histories/<cell>/loss"); strings are variable-length UTF-8, so h5py reads them with
// .asstr(). The file is written under a temporary name and renamed on commit()
// (io/atomic_file.h): readers see the old table or the new one, never half of one.
#pragma once

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

}  // namespace journey
