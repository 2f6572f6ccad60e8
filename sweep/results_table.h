// The sweep's results: DIR/results.csv and DIR/results.h5, one row per cell, rewritten from
// the ledger after every finished cell (both atomically).
//
// Columns (docs/results-format.md): the cell's axes, status and reason, n_avg (N-bar),
// n_final, n_initial (prunable parameters), embedding_params, tokens (D), compute (C), loss
// (the final eval loss, the value the law fits), final_train_loss, steps, wall time and
// tokens/s. n_avg, loss and final_train_loss are empty (NaN in results.h5) in the rows of
// cells that are not done. results.h5 holds the same columns under /cells and each cell's
// metric history (from DIR/cells/<id>/metrics.csv and eval.csv) under /histories/<id>/<series>.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "run/metrics_history.h"
#include "sweep/ledger.h"

namespace journey {

void write_results(const Ledger& ledger);

// The rows of DIR/results.csv as cell records: the axes, status and results that the table
// holds (a record's other fields keep their defaults). For result directories without a
// ledger: a sweep's published results, or a merge of several sweeps. Columns are found by
// name; id, status, size, n_avg, n_initial, tokens and loss are required, the rest optional
// (an older table). Errors: DataError naming the file, line and column for a missing
// column, an unknown status, a non-numeric or fractional count, or a cell listed twice at
// one lr.
std::vector<CellRecord> read_results_table(const std::string& dir);

// The training histories DIR/results.h5 holds (histories/<id>/<field>), for those of `ids`
// that have one; empty when DIR has no results.h5. Errors: DataError naming the file for one
// that is not a Journey results table (its `format` attribute), and the column for one that
// cannot be read or a history whose columns differ in length.
std::map<std::string, MetricsHistory> read_results_histories(const std::string& dir,
                                                             const std::vector<std::string>& ids);

// DIR/cells/<id>: where a cell's trainer writes.
std::string cell_dir(const std::string& sweep_dir, const std::string& cell_id);

}  // namespace journey
