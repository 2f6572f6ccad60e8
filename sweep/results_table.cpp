#include "sweep/results_table.h"

#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>
#include <type_traits>

#include "common/error.h"
#include "common/log.h"
#include "common/number_text.h"
#include "io/atomic_file.h"
#include "io/csv_table.h"
#include "io/table_file.h"
#include "run/metrics_history.h"

namespace journey {
namespace {

// One results column: its name, how to read it from a record as text, number or integer,
// and how to set it in a record from results.csv (`read`, the inverse of the getter).
struct ColumnSpec {
  const char* name;
  std::function<std::string(const CellRecord&)> text;
  std::function<double(const CellRecord&)> number;
  std::function<int64_t(const CellRecord&)> integer;
  std::function<void(CellRecord&, const CsvRow&)> read;
};

// A result only a finished cell has: N-bar and the final losses of a cell that has not
// finished describe a partial run, so its row leaves them empty (NaN in results.h5).
double if_done(const CellRecord& r, double value) {
  return r.status == CellStatus::kDone ? value : std::nan("");
}

// A count read back as a number (CSV text, or a double column of results.h5): it must be a
// whole number in range; `where` names the file and column for the error.
int64_t whole_number(double x, const std::string& where) {
  if (!(x == std::floor(x) && std::fabs(x) <= 9e15)) {
    throw DataError(where + ": " + shortest_decimal(x) + " is not a whole number");
  }
  return static_cast<int64_t>(x);
}

template <typename T>
void set_number(T& field, const CsvRow& row, const char* column) {
  if constexpr (std::is_integral_v<T>) {
    field = static_cast<T>(whole_number(row.number(column, true).value(), row.where(column)));
  } else if (std::optional<double> x = row.number(column, false)) {
    field = *x;  // An empty field (a result of a cell not done) keeps the default.
  }
}

// clang-format off
#define TEXT(field)                                                                      \
  {                                                                                      \
    #field, [](const CellRecord& r) { return r.field; }, nullptr, nullptr,               \
    [](CellRecord& r, const CsvRow& row) { r.field = row.text(#field).value(); }         \
  }
// `done_only`: the field is empty in the rows of cells that are not done.
#define NUMBER(name, field, done_only)                                                   \
  {                                                                                      \
    name, nullptr,                                                                       \
    [](const CellRecord& r) {                                                            \
      const double x = static_cast<double>(field);                                       \
      return done_only ? if_done(r, x) : x;                                              \
    },                                                                                   \
    nullptr, [](CellRecord& r, const CsvRow& row) { set_number(field, row, name); }      \
  }
#define INTEGER(name, field)                                                             \
  {                                                                                      \
    name, nullptr, nullptr, [](const CellRecord& r) { return static_cast<int64_t>(field); }, \
    [](CellRecord& r, const CsvRow& row) { set_number(field, row, name); }               \
  }
// clang-format on

const std::vector<ColumnSpec>& columns() {
  static const std::vector<ColumnSpec> specs = {
      TEXT(id),
      {"status", [](const CellRecord& r) { return std::string(cell_status_name(r.status)); },
       nullptr, nullptr,
       [](CellRecord& r, const CsvRow& row) {
         try {
           r.status = parse_cell_status(row.text("status").value());
         } catch (const DataError& e) {
           throw DataError(row.where("status") + ": " + e.what());
         }
       }},
      TEXT(size),
      INTEGER("d_model", r.d_model),
      INTEGER("n_layers", r.n_layers),
      INTEGER("n_heads", r.n_heads),
      NUMBER("sparsity", r.sparsity, false),
      TEXT(schedule),
      NUMBER("dense_frac", r.dense_frac, false),
      NUMBER("prune_end_frac", r.prune_end_frac, false),
      NUMBER("tokens_per_param", r.tokens_per_param, false),
      INTEGER("seed", r.seed),
      NUMBER("lr", r.lr, false),
      INTEGER("batch_tokens", r.batch_tokens),
      NUMBER("n_avg", r.run.n_avg, true),
      NUMBER("n_final", r.run.n_final, false),
      NUMBER("n_initial", r.run.n_initial, false),
      NUMBER("embedding_params", r.run.embedding_params, false),
      INTEGER("tokens", r.run.tokens),
      NUMBER("compute", r.run.compute, false),
      NUMBER("loss", r.run.final_eval_loss, true),
      NUMBER("final_train_loss", r.run.final_loss, true),
      INTEGER("steps_done", r.run.steps_done),
      INTEGER("total_steps", r.run.total_steps),
      NUMBER("wall_s", r.wall_s, false),
      NUMBER("tokens_per_s", r.run.tokens_per_s, false),
      INTEGER("group_size", r.group_size),
      INTEGER("attempts", r.attempts),
      TEXT(reason),
  };
  return specs;
}

#undef TEXT
#undef NUMBER
#undef INTEGER

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// One value of a results.h5 column into a history field (integer fields were written as
// doubles).
template <typename T>
void set_from_column(T& field, double value, const std::string& file, const std::string& column) {
  if constexpr (std::is_integral_v<T>) {
    field = static_cast<T>(whole_number(value, file + ", column '" + column + "'"));
  } else {
    field = value;
  }
}

}  // namespace

std::string cell_dir(const std::string& sweep_dir, const std::string& cell_id) {
  return sweep_dir + "/cells/" + cell_id;
}

std::vector<CellRecord> read_results_table(const std::string& dir) {
  const CsvTable csv = read_csv_table(dir + "/results.csv");
  for (const char* required : {"id", "status", "size", "n_avg", "n_initial", "tokens", "loss"}) {
    if (!csv.has(required)) {
      throw DataError(csv.file + " line " + std::to_string(csv.header_line) + ": missing column '" +
                      required + "' (a results table of journey sweep)");
    }
  }
  std::vector<CellRecord> records;
  for (const CsvRow& row : csv.rows) {
    CellRecord r;
    // Status first: whether a cell is done decides which of its fields may be empty.
    for (const ColumnSpec& col : columns()) {
      if (std::string(col.name) == "status") col.read(r, row);
    }
    for (const ColumnSpec& col : columns()) {
      if (std::string(col.name) != "status" && csv.has(col.name)) col.read(r, row);
    }
    if (r.id.empty()) throw DataError(row.where("id") + ": empty; expected the cell's id");
    for (const CellRecord& earlier : records) {
      if (earlier.id == r.id && earlier.lr == r.lr) {
        throw DataError(row.where("id") + ": cell " + r.id + " appears twice at lr " +
                        shortest_decimal(r.lr) + "; each cell must appear once");
      }
    }
    records.push_back(std::move(r));
  }
  return records;
}

std::map<std::string, MetricsHistory> read_results_histories(const std::string& dir,
                                                             const std::vector<std::string>& ids) {
  std::map<std::string, MetricsHistory> histories;
  const std::string path = dir + "/results.h5";
  if (!std::filesystem::exists(path)) return histories;
  const TableFileReader h5(path);
  if (h5.attr("format") != "journey-results") {
    throw DataError(path +
                    " is not a Journey results table (its 'format' attribute is not "
                    "journey-results)");
  }
  for (const std::string& id : ids) {
    const std::string prefix = "histories/" + id + "/";
    if (!h5.has(prefix + "step")) continue;
    MetricsHistory& history = histories[id];
    const size_t steps = h5.read_numbers(prefix + "step").size();
    history.steps.resize(steps);
    // Each field's column; integer fields were written as doubles and are whole.
#define X(field)                                                                            \
  {                                                                                         \
    const std::vector<double> column = h5.read_numbers(prefix + #field);                    \
    if (column.size() != steps) {                                                           \
      throw DataError(path + ", column '" + prefix + #field +                               \
                      "': " + std::to_string(column.size()) + " values; the history has " + \
                      std::to_string(steps) + " steps");                                    \
    }                                                                                       \
    for (size_t i = 0; i < steps; ++i) {                                                    \
      set_from_column(history.steps[i].field, column[i], path, prefix + #field);            \
    }                                                                                       \
  }
    JOURNEY_STEP_RECORD_FIELDS(X)
#undef X
    if (h5.has(prefix + "eval_step")) {
      const std::vector<double> step = h5.read_numbers(prefix + "eval_step");
      const std::vector<double> loss = h5.read_numbers(prefix + "eval_loss");
      if (step.size() != loss.size()) {
        throw DataError(path + ", " + prefix + "eval_step and eval_loss differ in length");
      }
      for (size_t i = 0; i < step.size(); ++i) {
        EvalRecord e;
        set_from_column(e.step, step[i], path, prefix + "eval_step");
        e.loss = loss[i];
        history.evals.push_back(e);
      }
    }
  }
  return histories;
}

void write_results(const Ledger& ledger) {
  const auto& records = ledger.records();
  std::ostringstream csv;
  for (size_t c = 0; c < columns().size(); ++c) csv << (c ? "," : "") << columns()[c].name;
  csv << "\n";
  for (const CellRecord& r : records) {
    for (size_t c = 0; c < columns().size(); ++c) {
      const ColumnSpec& col = columns()[c];
      csv << (c ? "," : "");
      if (col.text) csv << csv_field(col.text(r));
      if (col.number && !std::isnan(col.number(r))) csv << shortest_decimal(col.number(r));
      if (col.integer) csv << col.integer(r);
    }
    csv << "\n";
  }
  write_file_atomically(ledger.dir() + "/results.csv", csv.str());

  TableFileWriter h5(ledger.dir() + "/results.h5");
  h5.set_attr("format", "journey-results");
  for (const ColumnSpec& col : columns()) {
    const std::string path = std::string("cells/") + col.name;
    if (col.text) {
      std::vector<std::string> v;
      for (const CellRecord& r : records) v.push_back(col.text(r));
      h5.write_column(path, v);
    } else if (col.number) {
      std::vector<double> v;
      for (const CellRecord& r : records) v.push_back(col.number(r));
      h5.write_column(path, v);
    } else {
      std::vector<int64_t> v;
      for (const CellRecord& r : records) v.push_back(col.integer(r));
      h5.write_column(path, v);
    }
  }
  for (const CellRecord& r : records) {
    MetricsHistory history;
    try {
      history = read_metrics_csv(cell_dir(ledger.dir(), r.id));
    } catch (const DataError& e) {
      log::warn("results.h5 leaves out the history of " + r.id + ": " + e.what());
      continue;
    }
    if (history.steps.empty() && history.evals.empty()) continue;
    const std::string prefix = "histories/" + r.id + "/";
#define X(field)                                                         \
  {                                                                      \
    std::vector<double> column;                                          \
    for (const StepRecord& s : history.steps) column.push_back(s.field); \
    h5.write_column(prefix + #field, column);                            \
  }
    JOURNEY_STEP_RECORD_FIELDS(X)
#undef X
    std::vector<double> eval_step, eval_loss;
    for (const EvalRecord& e : history.evals) {
      eval_step.push_back(static_cast<double>(e.step));
      eval_loss.push_back(e.loss);
    }
    h5.write_column(prefix + "eval_step", eval_step);
    h5.write_column(prefix + "eval_loss", eval_loss);
  }
  h5.commit();
}

}  // namespace journey
