#include "fit/results_csv.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <tuple>

#include "common/error.h"
#include "io/csv_table.h"

namespace journey {
namespace {

const char* const kRequired[] = {"n_avg", "n_final", "n_initial", "tokens", "loss"};

std::string resolve_path(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    throw DataError("cannot read results " + path + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(info.st_mode)) return path;
  const std::string csv = path + (path.back() == '/' ? "" : "/") + "results.csv";
  if (stat(csv.c_str(), &info) != 0) {
    throw DataError("results directory " + path + " holds no results.csv");
  }
  return csv;
}

RunRecord parse_run(const CsvRow& row, const std::string& file) {
  RunRecord run;
  run.file = file;
  run.line = row.line();
  run.n_avg = row.positive("n_avg");
  run.n_final = row.positive("n_final");
  run.n_initial = row.positive("n_initial");
  run.tokens = row.positive("tokens");
  run.loss = row.positive("loss");
  // A mean cross-entropy in nats is at most ln V for a uniform guess (11.5 for V = 100,000):
  // far above that, the number is not a language model's loss (a corrupt or foreign file).
  constexpr double kMaxLoss = 100.0;
  if (run.loss > kMaxLoss) {
    throw DataError(row.where("loss") + ": " + row.text("loss").value() +
                    " nats per token is not a language model's loss; expected at most 100");
  }
  // Physical ranges, as the report checks a ledger (report/sweep_data.cpp): far beyond any
  // model or dataset, a number is corrupt, and the fit's logs and powers would overflow.
  constexpr double kMaxParams = 1e15, kMaxTokens = 1e17;
  for (const auto& [column, value, limit] :
       {std::tuple<const char*, double, double>{"n_initial", run.n_initial, kMaxParams},
        {"tokens", run.tokens, kMaxTokens}}) {
    if (value > limit) {
      throw DataError(row.where(column) + ": " + row.text(column).value() +
                      " is beyond any training run; expected at most " +
                      (limit == kMaxParams ? "1e15" : "1e17"));
    }
  }
  // N-bar is a mean of counts between the final and initial ones; allow rounding only.
  const double slack = 1e-9 * run.n_initial;
  if (run.n_final > run.n_avg + slack) {
    throw DataError(row.where("n_final") + ": n_final exceeds n_avg; expected n_final <= n_avg");
  }
  if (run.n_avg > run.n_initial + slack) {
    throw DataError(row.where("n_avg") + ": n_avg exceeds n_initial; expected n_avg <= n_initial");
  }
  std::optional<double> sparsity = row.number("sparsity", false);
  run.sparsity = sparsity ? *sparsity : std::max(0.0, 1.0 - run.n_final / run.n_initial);
  if (!sparsity && run.sparsity >= 1) {
    // The ratio is below double precision: no sparsity to derive.
    throw DataError(row.where("n_final") + ": " + row.text("n_final").value() +
                    " is so far below n_initial that 1 - n_final / n_initial rounds to a "
                    "sparsity of 1; expected a sparsity below 1");
  }
  if (run.sparsity < 0 || run.sparsity >= 1) {
    throw DataError(row.where("sparsity") + ": " + row.text("sparsity").value() +
                    " is outside [0, 1)");
  }
  run.id = row.text("id").value_or("");
  if (std::optional<double> lr = row.number("lr", false)) {
    if (*lr <= 0)
      throw DataError(row.where("lr") + ": " + row.text("lr").value() + " is not positive");
    run.lr = *lr;
  }
  std::optional<std::string> size = row.text("size");
  if (size && !size->empty()) {
    run.size = *size;
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", run.n_initial);
    run.size = buf;
  }
  return run;
}

// Reads one file's runs into `table`; `seen` maps each run's key to where it was first seen,
// across files.
void read_one_file(const std::string& path, ResultsTable& table,
                   std::map<std::string, std::string>& seen) {
  const std::string file = resolve_path(path);
  const CsvTable csv = read_csv_table(file);
  for (const char* name : kRequired) {
    if (!csv.has(name)) {
      throw DataError(file + " line " + std::to_string(csv.header_line) + ": missing column '" +
                      name + "' (required: n_avg, n_final, n_initial, tokens, loss)");
    }
  }
  for (const CsvRow& row : csv.rows) {
    const std::string where = file + " line " + std::to_string(row.line());
    // Each run once: a run counted twice (a file merged twice, a copied row) weighs double in
    // the fit. A run is its id with its lr and batch where the file has them (a sweep's cell
    // ids do not name the rate: the cells of an lr scan share them), else its whole record.
    const std::optional<std::string> id = row.text("id");
    std::string key = "record";
    for (const std::string& name : csv.names) key += "," + row.text(name).value();
    if (id && !id->empty()) {
      key = "id " + *id;
      for (const char* setting : {"lr", "batch_tokens"}) {
        if (const std::optional<std::string> value = row.text(setting)) {
          key += std::string(", ") + setting + " " + *value;
        }
      }
    }
    const auto [first, inserted] = seen.emplace(key, where);
    if (!inserted) {
      const std::string earlier = first->second.rfind(file + " ", 0) == 0
                                      ? first->second.substr(file.size() + 1)
                                      : first->second;
      throw DataError(where + ": the same run as " + earlier + " (" + key +
                      "); each run must appear once");
    }
    std::optional<std::string> status = row.text("status");
    if (status && *status != "done") {
      ++table.skipped;
      continue;
    }
    table.runs.push_back(parse_run(row, file));
  }
  table.path += (table.path.empty() ? "" : ", ") + file;
}

}  // namespace

ResultsTable read_results_csv(const std::string& path) {
  return read_results_csv(std::vector<std::string>{path});
}

ResultsTable read_results_csv(const std::vector<std::string>& paths) {
  ResultsTable table;
  std::map<std::string, std::string> seen;  // Run key -> where it was first seen.
  // One file given twice (a directory and its results.csv, a second spelling) is said as such.
  std::map<std::pair<dev_t, ino_t>, std::string> files;
  for (const std::string& path : paths) {
    struct stat info {};
    const std::string file = resolve_path(path);
    if (stat(file.c_str(), &info) == 0) {
      const auto [first, inserted] = files.emplace(std::make_pair(info.st_dev, info.st_ino), path);
      if (!inserted) {
        throw UsageError("results " + path + " and " + first->second + " are the same file (" +
                         file + "), given twice");
      }
    }
  }
  for (const std::string& path : paths) read_one_file(path, table, seen);
  if (static_cast<int>(table.runs.size()) < kMinRuns) {
    throw DataError(table.path + ": " + std::to_string(table.runs.size()) +
                    " usable runs (status done); a fit needs at least " + std::to_string(kMinRuns));
  }
  return table;
}

}  // namespace journey
