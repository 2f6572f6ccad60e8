// Helpers of the system tests (sweep_test.cpp, resume_test.cpp, slurm_test.cpp), which run
// `journey train`, `journey sweep` and `journey submit` as processes on a real dataset and
// read what the runs write.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_files.h"

namespace journey::testing {

// The start of a command line that runs the rest under mpirun on `ranks` ranks: allowed as
// root, oversubscribed and unbound (the test machine may have fewer cores than ranks).
inline std::string mpirun(int ranks) {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np " +
         std::to_string(ranks) + " --oversubscribe --bind-to none ";
}

// <test temporary directory>/journey-<name>, with whatever an earlier run left there removed
// (the directory itself is not created).
inline std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "journey-" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// DIR/results.csv as cell id -> column -> text; empty when there is no results.csv.
inline std::map<std::string, std::map<std::string, std::string>> read_results(
    const std::string& dir) {
  std::ifstream in(dir + "/results.csv");
  std::string line, field;
  std::getline(in, line);
  std::vector<std::string> header;
  std::istringstream h(line);
  while (std::getline(h, field, ',')) header.push_back(field);
  std::map<std::string, std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::map<std::string, std::string> values;
    for (const std::string& name : header) {
      std::getline(row, field, ',');
      values[name] = field;
    }
    rows[values["id"]] = values;
  }
  return rows;
}

// Waits until some cell of the sweep in `dir` has written a checkpoint (a non-empty
// DIR/cells/<cell>/checkpoints), polling every 200 ms; false when none has after `timeout`.
inline bool wait_for_a_cell_checkpoint(const std::string& dir, std::chrono::seconds timeout) {
  namespace fs = std::filesystem;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!fs::exists(dir + "/cells")) continue;
    for (const auto& cell : fs::directory_iterator(dir + "/cells")) {
      const fs::path checkpoints = cell.path() / "checkpoints";
      if (fs::exists(checkpoints) && !fs::is_empty(checkpoints)) return true;
    }
  }
  return false;
}

}  // namespace journey::testing
