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

#include <string>

#include "sweep/ledger.h"

namespace journey {

void write_results(const Ledger& ledger);

// DIR/cells/<id>: where a cell's trainer writes.
std::string cell_dir(const std::string& sweep_dir, const std::string& cell_id);

}  // namespace journey
