#include "report/sweep_data.h"

#include <filesystem>

#include "common/error.h"
#include "io/whole_file.h"
#include "run/metrics_history.h"
#include "sweep/ledger.h"

namespace fs = std::filesystem;

namespace journey {
int SweepData::count(CellStatus status) const {
  int n = 0;
  for (const SweepCell& cell : cells) n += cell.record.status == status;
  return n;
}

CellHistory parse_cell_history(const std::string& metrics_csv, const std::string& eval_csv,
                               const std::string& origin) {
  const MetricsHistory recorded = parse_metrics_csv(metrics_csv, eval_csv, origin);
  CellHistory h;
  double compute = 0, tokens_before = 0;
  for (const StepRecord& r : recorded.steps) {
    // `tokens` counts tokens seen after the step, so its increment is the step's batch.
    compute += 6.0 * r.active * (r.tokens - tokens_before);
    tokens_before = static_cast<double>(r.tokens);
    h.steps.push_back(r.step + 1);
    h.loss.push_back(r.loss);
    h.density.push_back(r.density);
    h.compute.push_back(compute);
    h.tokens.push_back(static_cast<double>(r.tokens));
  }
  for (const EvalRecord& e : recorded.evals) {
    h.eval_steps.push_back(e.step);
    h.eval_loss.push_back(e.loss);
  }
  return h;
}

SweepData load_sweep(const std::string& dir) {
  SweepData data;
  data.dir = dir;
  const Ledger ledger = Ledger::load(dir);
  data.sweep_ini = read_file_or_empty(dir + "/sweep.ini");
  for (const CellRecord& record : ledger.records()) {
    SweepCell cell;
    cell.record = record;
    const fs::path cell_dir = fs::path(dir) / "cells" / record.id;
    cell.config_ini = read_file_or_empty((cell_dir / "config.ini").string());
    try {
      cell.history = parse_cell_history(read_file_or_empty((cell_dir / "metrics.csv").string()),
                                        read_file_or_empty((cell_dir / "eval.csv").string()),
                                        cell_dir.string());
    } catch (const DataError& e) {
      data.warnings.push_back(std::string("history left out: ") + e.what());
    }
    try {
      cell.sparsity = read_sparsity_csv(cell_dir.string());
    } catch (const DataError& e) {
      data.warnings.push_back(std::string("per-matrix sparsity left out: ") + e.what());
    }
    if (cell.history.empty() && record.status == CellStatus::kDone) {
      data.warnings.push_back("cell " + record.id + " is done but " + cell_dir.string() +
                              " holds no metrics.csv or eval.csv");
    }
    data.cells.push_back(std::move(cell));
  }
  return data;
}

}  // namespace journey
