// A sweep directory as the report reads it (docs/results-format.md, "The sweep directory"):
// every cell's ledger record, its training history (cells/<id>/metrics.csv, eval.csv) and
// config (cells/<id>/config.ini), and the sweep's sweep.ini.
//
// The ledger is the source of truth for which cells exist and how they ended; results.csv
// is the fit's input and is read by the fit (report/fit_summary.h). A cell's files may be
// missing or partial (a failed or pending cell, a cell that never started): the cell is then
// kept with an empty history and the problem is recorded in `warnings`, so a sweep with
// failed cells still gives a report.
//
// A directory with results.csv but no ledger.json (a sweep's published results, or sweeps
// merged by scripts/merge_results.py) is read as well: its cells are the table's rows
// (sweep/results_table.h), with the histories that DIR/cells/<id>/ or DIR/results.h5 holds
// (a merged table has neither; an unreadable results.h5 is a warning).
//
// Errors: DataError when DIR is neither (no ledger.json, no results.csv), the ledger or table is
// unreadable or malformed (sweep/ledger.h), or a cell record holds a number no sweep writes
// (a done cell's parameter counts, tokens, compute or final eval loss not positive, finite
// and in a physical range; any cell's sparsity outside [0, 1)): the message names the
// ledger, the cell, the field and what was expected. It is thrown before the report writes
// anything.
//
// load_sweeps() reads several sweep directories as one data set (`journey report DIR1 DIR2
// ...`): their cells in argument order, each keeping the directory it came from. A cell id
// found in two directories is one run twice when both have the same lr (DataError naming both
// directories) and two runs when the lr differs (an lr scan): both are kept, their ids made
// unique by appending " (lr X)" so that figures and tables can tell them apart.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "run/metrics_history.h"
#include "sweep/cell_record.h"

namespace journey {

// One cell's recorded training, in step order.
struct CellHistory {
  std::vector<int64_t> steps;   // Steps done after each recorded step (metrics step + 1).
  std::vector<double> loss;     // Training loss of that step, nats per token.
  std::vector<double> density;  // N_t / P: fraction of prunable weights alive.
  std::vector<double> compute;  // Cumulative C = sum of 6 N_t tokens over the steps so far.
  std::vector<double> tokens;   // Tokens seen after each recorded step.
  std::vector<int64_t> eval_steps;
  std::vector<double> eval_loss;

  bool empty() const { return steps.empty() && eval_steps.empty(); }
};

struct SweepCell {
  CellRecord record;
  CellHistory history;
  MatrixDensities sparsity;  // cells/<id>/sparsity.csv: per-matrix density at each event.
  std::string config_ini;    // cells/<id>/config.ini; empty when absent.
  std::string dir;           // The sweep directory it came from.

  bool done() const { return record.status == CellStatus::kDone; }
};

// One directory of the data set.
struct SweepSource {
  std::string dir;
  std::string sweep_ini;  // DIR/sweep.ini; empty when absent.
  int cells = 0;
  bool results_only = false;  // No ledger: the cells come from DIR/results.csv,
  int stored_histories = 0;   // and this many of their histories from DIR/results.h5.
};

struct SweepData {
  std::string dir;                   // The first directory.
  std::string sweep_ini;             // DIR/sweep.ini of the first directory; empty when absent.
  std::vector<SweepSource> sources;  // Every directory, in argument order.
  std::vector<SweepCell> cells;      // Ledger order.
  std::vector<std::string> warnings;

  int count(CellStatus status) const;
};

SweepData load_sweep(const std::string& dir);
SweepData load_sweeps(const std::vector<std::string>& dirs);

// A cell history from the text of metrics.csv and eval.csv (either may be empty). Columns
// are found by name; metrics.csv needs step, loss, active, density and tokens. Throws
// DataError naming `origin` for a missing column or a non-numeric field.
CellHistory parse_cell_history(const std::string& metrics_csv, const std::string& eval_csv,
                               const std::string& origin);

}  // namespace journey
