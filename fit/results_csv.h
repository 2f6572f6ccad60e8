// Reads the table of finished runs that `journey fit` fits (docs/results-format.md, "CSV for
// journey fit").
//
// A header row names the columns; order does not matter and unknown columns are ignored, so
// the coordinator's results.csv can carry more. Required: n_avg (N-bar, the average active
// prunable parameters), n_final, n_initial (the dense size), tokens, loss: finite and > 0,
// with n_final <= n_avg <= n_initial and loss at most 100 nats. Each run appears once: by id
// (with lr and batch_tokens where present) when there is an id column, else by its whole
// record. Optional: sparsity (in [0, 1); default
// 1 - n_final / n_initial), size (a model-size label for leave-one-size-out; default
// n_initial to 6 significant digits), status (rows whose status is not "done" are
// skipped). Fields may be quoted ("..." with "" for a quote, newlines allowed inside);
// blank lines are skipped.
//
// Errors: DataError naming the file, and the line and column where there is one, for an
// unreadable file, a directory without results.csv, a missing or duplicated column, a row
// with the wrong number of fields, an empty, non-numeric, NaN, infinite, non-positive or
// out-of-range value, a run that appears twice (naming both lines), or fewer than kMinRuns
// usable rows.
#pragma once

#include <string>
#include <vector>

namespace journey {

struct RunRecord {
  double n_avg = 0, n_final = 0, n_initial = 0, tokens = 0, loss = 0;
  double sparsity = 0;  // The column, or 1 - n_final / n_initial.
  std::string size;     // The column, or n_initial as text.
  std::string id;       // The column, or empty.
  double lr = 0;        // The column (peak learning rate), or 0 when the file has none.
  std::string file;     // The CSV file it came from, and its 1-based line, for messages.
  int line = 0;
};

struct ResultsTable {
  std::string path;  // The CSV file read (RESULTS/results.csv for a directory); with several
                     // files, their paths joined by ", ".
  std::vector<RunRecord> runs;
  int skipped = 0;  // Rows whose status was not "done".
};

// The fewest runs a fit accepts: one more than the Chinchilla law's five parameters.
constexpr int kMinRuns = 6;

// `path` is a CSV file, or a results directory holding results.csv.
ResultsTable read_results_csv(const std::string& path);

// Several such tables as one data set (sweeps that differ outside their grid, such as the
// runs of an lr scan): every file is checked as above, a run may appear in only one of them
// (DataError naming both places; UsageError when two paths are one file), and the minimum of
// kMinRuns applies to the union.
ResultsTable read_results_csv(const std::vector<std::string>& paths);

}  // namespace journey
