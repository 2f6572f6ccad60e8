// The sweep's ledger: DIR/ledger.json, the single source of truth about which cells are
// pending, running, done, failed or preempted. The coordinator rewrites it atomically after
// every event (io/atomic_file.h), so a crash at any moment leaves the previous state.
//
// A ledger belongs to one sweep identity: the result-relevant config
// (common/config.h result_identity) and the dataset's tokenizer hash. Opening a directory
// whose ledger has another identity is refused, so two different sweeps never mix their
// cells in one results table.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "schedules/grid.h"
#include "sweep/cell_record.h"

namespace journey {

// What a sweep directory belongs to: the result-relevant config and the dataset's tokenizer.
std::string sweep_identity(const RunConfig& base, const std::string& tokenizer_hash);

class Ledger {
 public:
  // Loads DIR/ledger.json when it exists (UsageError if its identity differs, DataError if
  // it is unreadable) and adds records for cells it does not know; otherwise starts a new
  // ledger with every cell pending. Records of the previous process still marked running
  // become preempted: that process ended without finishing them.
  static Ledger open_or_create(const std::string& dir, const std::string& identity,
                               const std::vector<Cell>& cells);
  // Throws UsageError when DIR holds a ledger of another identity (nothing otherwise).
  static void check_identity(const std::string& dir, const std::string& identity);
  // Loads an existing ledger read-only (for `journey status`); DataError if missing.
  static Ledger load(const std::string& dir);

  const std::string& dir() const { return dir_; }
  std::vector<CellRecord>& records() { return records_; }
  const std::vector<CellRecord>& records() const { return records_; }
  CellRecord& at(const std::string& id);

  int count(CellStatus status) const;
  void save() const;

 private:
  std::string dir_;
  std::string identity_;
  std::vector<CellRecord> records_;
};

}  // namespace journey
