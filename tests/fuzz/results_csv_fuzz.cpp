// Fuzz target: a results table, as `journey fit` reads it (read_results_csv) and as `journey
// report` reads a results directory's cells (read_results_table). Expected errors are
// DataError.
// Contract checked beyond "no crash": a table that read_results_csv reads has at least
// kMinRuns runs, each with positive finite n_final <= n_avg <= n_initial (up to rounding),
// tokens and a loss of at most 100, and a sparsity in [0, 1) (fit/results_csv.h); the cells
// read_results_table reads have ids, no two the same at one lr (sweep/results_table.h).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "fit/results_csv.h"
#include "sweep/results_table.h"
#include "tests/fuzz/fuzz_files.h"

using namespace journey;

namespace {

bool positive_finite(double x) {
  return std::isfinite(x) && x > 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_scratch_file("results.csv", data, size);
  try {
    const ResultsTable table = read_results_csv(path);
    if (static_cast<int>(table.runs.size()) < kMinRuns) fuzz::contract_broken("too few runs");
    for (const RunRecord& run : table.runs) {
      if (!positive_finite(run.n_avg) || !positive_finite(run.n_final) ||
          !positive_finite(run.n_initial) || !positive_finite(run.tokens) ||
          !positive_finite(run.loss) || run.loss > 100) {
        fuzz::contract_broken("a value that is not positive, finite and in range");
      }
      const double slack = 1e-9 * run.n_initial;
      if (run.n_final > run.n_avg + slack || run.n_avg > run.n_initial + slack) {
        fuzz::contract_broken("not n_final <= n_avg <= n_initial");
      }
      if (!(run.sparsity >= 0 && run.sparsity < 1)) fuzz::contract_broken("sparsity not in [0, 1)");
    }
  } catch (const DataError&) {
  }
  try {
    const std::vector<CellRecord> cells = read_results_table(fuzz::scratch_dir());
    for (size_t i = 0; i < cells.size(); ++i) {
      if (cells[i].id.empty()) fuzz::contract_broken("a cell without an id");
      for (size_t j = 0; j < i; ++j) {
        if (cells[j].id == cells[i].id && cells[j].lr == cells[i].lr) {
          fuzz::contract_broken("a cell listed twice at one lr");
        }
      }
    }
  } catch (const DataError&) {
  }
  return 0;
}
