// The sweep's ledger: DIR/ledger.json, the single source of truth about which cells are
// pending, running, done, failed or preempted. The coordinator rewrites it atomically after
// every event (io/atomic_file.h), so a crash at any moment leaves the previous state.
//
// A ledger belongs to one sweep identity: the result-relevant config (common/config.h
// result_identity), the dataset's tokenizer hash and its data's fingerprint. The grid ([sweep]) may
// grow: a config that differs only there may add cells (sizes, sparsities, seeds, ...) to the
// directory, which are appended to the ledger and run, while the cells it holds stay as they are. A
// config that would change a cell the directory holds (its lr or batch from sweep.lr or
// sweep.batch_tokens, or anything else its result depends on) is refused, and so is one that
// differs outside [sweep]; so two different experiments never mix in one results table.
// Cells of an earlier grid that the current one lacks stay in the ledger and the results.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "schedules/grid.h"
#include "sweep/cell_record.h"

namespace journey {

// What a sweep directory belongs to: the result-relevant config, the dataset's tokenizer and
// the data itself (Dataset::fingerprint). Ledgers written before the data was part of it are
// compared without it, and record it from then on.
std::string sweep_identity(const RunConfig& base, const std::string& tokenizer_hash,
                           const std::string& data_fingerprint);

class Ledger {
 public:
  // Loads DIR/ledger.json when it exists (UsageError as check_identity says, DataError if it
  // is unreadable) and adds records for cells it does not know; otherwise starts a new ledger
  // with every cell pending. Records of the previous process still marked running become
  // preempted: that process ended without finishing them. A known cell that never started
  // takes the new grid's config.
  static Ledger open_or_create(const std::string& dir, const std::string& identity,
                               const std::vector<Cell>& cells);
  // Throws UsageError when DIR holds a ledger of another identity outside [sweep], or one of
  // whose started cells `cells` would give another config, or no ledger but results a sweep
  // writes (results.csv, results.h5, fit.*, cells/), which it would overwrite; nothing
  // otherwise. open_or_create refuses the same.
  static void check_identity(const std::string& dir, const std::string& identity,
                             const std::vector<Cell>& cells);
  // Loads an existing ledger read-only (for `journey status`); DataError if missing.
  static Ledger load(const std::string& dir);

  const std::string& dir() const { return dir_; }
  std::vector<CellRecord>& records() { return records_; }
  const std::vector<CellRecord>& records() const { return records_; }
  CellRecord& at(const std::string& id);

  int count(CellStatus status) const;
  void save() const;

 private:
  // check_identity's refusals, for a ledger already loaded.
  static void refuse_changes(const Ledger& stored, const std::string& identity,
                             const std::vector<Cell>& cells);

  std::string dir_;
  std::string identity_;
  std::vector<CellRecord> records_;
};

// The sizes whose done cells were trained at more than one lr (sweep.lrs, or a grown grid),
// in order of first appearance: the sweep's fit then keeps each size's best rate
// (`journey fit --select best-lr`, fit/lr_selection.h).
std::vector<std::string> sizes_with_several_rates(const Ledger& ledger);

}  // namespace journey
