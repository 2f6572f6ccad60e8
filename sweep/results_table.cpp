#include "sweep/results_table.h"

#include <cmath>
#include <functional>
#include <sstream>

#include "common/error.h"
#include "common/log.h"
#include "common/number_text.h"
#include "io/atomic_file.h"
#include "io/table_file.h"
#include "run/metrics_history.h"

namespace journey {
namespace {

// One results column: its name and how to read it from a record as text, number or integer.
struct ColumnSpec {
  const char* name;
  std::function<std::string(const CellRecord&)> text;
  std::function<double(const CellRecord&)> number;
  std::function<int64_t(const CellRecord&)> integer;
};

#define TEXT(field)                                                       \
  {                                                                       \
#field, [](const CellRecord& r) { return r.field; }, nullptr, nullptr \
  }
#define NUMBER(name, expr)                                                                \
  {                                                                                       \
    name, nullptr, [](const CellRecord& r) { return static_cast<double>(expr); }, nullptr \
  }
#define INTEGER(name, expr)                                                                \
  {                                                                                        \
    name, nullptr, nullptr, [](const CellRecord& r) { return static_cast<int64_t>(expr); } \
  }

// A result only a finished cell has: N-bar and the final losses of a cell that has not
// finished describe a partial run, so its row leaves them empty (NaN in results.h5).
double if_done(const CellRecord& r, double value) {
  return r.status == CellStatus::kDone ? value : std::nan("");
}

const std::vector<ColumnSpec>& columns() {
  static const std::vector<ColumnSpec> specs = {
      TEXT(id),
      {"status", [](const CellRecord& r) { return std::string(cell_status_name(r.status)); },
       nullptr, nullptr},
      TEXT(size),
      INTEGER("d_model", r.d_model),
      INTEGER("n_layers", r.n_layers),
      INTEGER("n_heads", r.n_heads),
      NUMBER("sparsity", r.sparsity),
      TEXT(schedule),
      NUMBER("dense_frac", r.dense_frac),
      NUMBER("prune_end_frac", r.prune_end_frac),
      NUMBER("tokens_per_param", r.tokens_per_param),
      INTEGER("seed", r.seed),
      NUMBER("lr", r.lr),
      INTEGER("batch_tokens", r.batch_tokens),
      NUMBER("n_avg", if_done(r, r.run.n_avg)),
      NUMBER("n_final", r.run.n_final),
      NUMBER("n_initial", r.run.n_initial),
      NUMBER("embedding_params", r.run.embedding_params),
      INTEGER("tokens", r.run.tokens),
      NUMBER("compute", r.run.compute),
      NUMBER("loss", if_done(r, r.run.final_eval_loss)),
      NUMBER("final_train_loss", if_done(r, r.run.final_loss)),
      INTEGER("steps_done", r.run.steps_done),
      INTEGER("total_steps", r.run.total_steps),
      NUMBER("wall_s", r.wall_s),
      NUMBER("tokens_per_s", r.run.tokens_per_s),
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

}  // namespace

std::string cell_dir(const std::string& sweep_dir, const std::string& cell_id) {
  return sweep_dir + "/cells/" + cell_id;
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
