#include "report/sweep_data.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "common/error.h"
#include "io/whole_file.h"
#include "run/metrics_history.h"
#include "sweep/ledger.h"
#include "sweep/results_table.h"

namespace fs = std::filesystem;

namespace journey {
namespace {

// Far above any run so far (the largest models have about 10^12 parameters, seen about 10^13
// tokens, using about 10^26 FLOP): beyond these a number is a corrupt or hand-edited ledger,
// and would overflow the plans (up to 100 times the largest compute) and log-scale axes.
constexpr double kMaxParams = 1e15;
constexpr double kMaxTokens = 1e17;
constexpr double kMaxCompute = 1e32;
constexpr double kMaxLoss = 100;  // Nats per token, as fit/results_csv.h allows.

std::string number_text(double x) {
  if (std::isnan(x)) return "null (not a number)";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

// Refuses a record whose numbers no sweep writes, naming the ledger, the cell, the field and
// what was expected. A done cell's numbers are plotted, fitted and planned from, so they must
// be positive; other cells' may be 0 (nothing trained yet) and their losses NaN.
void check_numbers(const CellRecord& r, const std::string& ledger) {
  auto check = [&](const char* field, double value, double lo, bool lo_open, double hi,
                   const std::string& expected) {
    const bool above_lo = lo_open ? value > lo : value >= lo;
    if (above_lo && value <= hi) return;  // False for NaN.
    throw DataError(ledger + ": cell " + r.id + ": " + field + " is " + number_text(value) +
                    "; expected " + expected + " (the ledger is corrupt or was edited)");
  };
  check("sparsity", r.sparsity, 0, false, std::nextafter(1.0, 0.0), "a sparsity in [0, 1)");
  check("tokens_per_param", r.tokens_per_param, 0, true, kMaxTokens,
        "a positive number of tokens per parameter");
  const bool done = r.status == CellStatus::kDone;
  const RunSummary& run = r.run;
  const auto n_initial = static_cast<double>(run.n_initial);
  const auto n_final = static_cast<double>(run.n_final);
  const double slack = 1e-9 * n_initial;  // N-bar is a mean of counts: rounding only.
  check("run.n_initial", n_initial, 0, done, kMaxParams,
        std::string(done ? "a positive" : "a") + " number of parameters, at most 1e15");
  check("run.n_final", n_final, 0, done, n_initial,
        std::string(done ? "a positive" : "a") + " number of parameters, at most n_initial");
  if (done) {
    check("run.n_avg", run.n_avg, n_final - slack, false, n_initial + slack,
          "N-bar between n_final and n_initial");
  } else {
    check("run.n_avg", run.n_avg, 0, false, n_initial + slack, "N-bar between 0 and n_initial");
  }
  check("run.tokens", static_cast<double>(run.tokens), 0, done, kMaxTokens,
        std::string(done ? "a positive" : "a") + " number of tokens, at most 1e17");
  check("run.compute", run.compute, 0, done, kMaxCompute,
        std::string(done ? "a positive" : "a") + " number of FLOP (C = 6 N-bar D), at most 1e32");
  if (done) {
    check("run.final_eval_loss", run.final_eval_loss, 0, true, kMaxLoss,
          "a loss in (0, 100] nats per token");
  }
}

}  // namespace

int SweepData::count(CellStatus status) const {
  int n = 0;
  for (const SweepCell& cell : cells) n += cell.record.status == status;
  return n;
}

namespace {

// The report's view of a recorded history: steps done, cumulative compute and tokens.
CellHistory cell_history(const MetricsHistory& recorded) {
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

}  // namespace

CellHistory parse_cell_history(const std::string& metrics_csv, const std::string& eval_csv,
                               const std::string& origin) {
  return cell_history(parse_metrics_csv(metrics_csv, eval_csv, origin));
}

SweepData load_sweep(const std::string& dir) {
  SweepData data;
  data.dir = dir;
  // A directory with results.csv and no ledger is a results directory: published results, or
  // several sweeps merged (scripts/merge_results.py).
  const bool no_ledger = !fs::exists(fs::path(dir) / "ledger.json");
  const bool results_only = no_ledger && fs::exists(fs::path(dir) / "results.csv");
  const std::vector<CellRecord> records =
      results_only ? read_results_table(dir) : Ledger::load(dir).records();
  const std::string origin = dir + (results_only ? "/results.csv" : "/ledger.json");
  for (const CellRecord& record : records) check_numbers(record, origin);
  data.sweep_ini = read_file_or_empty(dir + "/sweep.ini");
  // A results directory's curves: those its results.h5 holds.
  std::map<std::string, MetricsHistory> stored;
  if (results_only) {
    std::vector<std::string> ids;
    for (const CellRecord& record : records) ids.push_back(record.id);
    try {
      stored = read_results_histories(dir, ids);
    } catch (const DataError& e) {
      data.warnings.push_back(std::string("histories of results.h5 left out: ") + e.what());
    }
  }
  for (const CellRecord& record : records) {
    SweepCell cell;
    cell.record = record;
    cell.dir = dir;
    const fs::path cell_dir = fs::path(dir) / "cells" / record.id;
    cell.config_ini = read_file_or_empty((cell_dir / "config.ini").string());
    try {
      cell.history = parse_cell_history(read_file_or_empty((cell_dir / "metrics.csv").string()),
                                        read_file_or_empty((cell_dir / "eval.csv").string()),
                                        cell_dir.string());
      if (cell.history.empty() && stored.count(record.id)) {
        cell.history = cell_history(stored.at(record.id));
      }
    } catch (const DataError& e) {
      data.warnings.push_back(std::string("history left out: ") + e.what());
    }
    try {
      cell.sparsity = read_sparsity_csv(cell_dir.string());
    } catch (const DataError& e) {
      data.warnings.push_back(std::string("per-matrix sparsity left out: ") + e.what());
    }
    if (cell.history.empty() && record.status == CellStatus::kDone && !results_only) {
      data.warnings.push_back("cell " + record.id + " is done but " + cell_dir.string() +
                              " holds no metrics.csv or eval.csv");
    }
    data.cells.push_back(std::move(cell));
  }
  data.sources.push_back({dir, data.sweep_ini, static_cast<int>(data.cells.size()), results_only,
                          static_cast<int>(stored.size())});
  return data;
}

SweepData load_sweeps(const std::vector<std::string>& dirs) {
  if (dirs.empty()) throw DataError("no sweep directory given");
  SweepData merged = load_sweep(dirs.front());
  for (size_t i = 1; i < dirs.size(); ++i) {
    SweepData next = load_sweep(dirs[i]);
    for (const SweepCell& cell : next.cells) {
      for (const SweepCell& other : merged.cells) {
        if (other.record.id == cell.record.id && other.record.lr == cell.record.lr) {
          throw DataError("cell " + cell.record.id + " is in both " + other.dir + " and " +
                          cell.dir +
                          " with the same lr: one run twice (report each directory once)");
        }
      }
    }
    merged.sources.push_back(next.sources.front());
    merged.warnings.insert(merged.warnings.end(), next.warnings.begin(), next.warnings.end());
    for (SweepCell& cell : next.cells) merged.cells.push_back(std::move(cell));
  }
  // Ids in several directories (different rates) are told apart by their lr.
  std::map<std::string, int> seen;
  for (const SweepCell& cell : merged.cells) ++seen[cell.record.id];
  for (SweepCell& cell : merged.cells) {
    if (seen[cell.record.id] > 1) {
      cell.record.id += " (lr " + number_text(cell.record.lr) + ")";
    }
  }
  return merged;
}

}  // namespace journey
