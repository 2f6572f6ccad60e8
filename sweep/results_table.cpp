#include "sweep/results_table.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "io/atomic_file.h"
#include "io/table_file.h"

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
#define INTEGER(field)                                                    \
  {                                                                       \
#field, nullptr, nullptr, [](const CellRecord& r) { return r.field; } \
  }

const std::vector<ColumnSpec>& columns() {
  static const std::vector<ColumnSpec> specs = {
      TEXT(id),
      {"status", [](const CellRecord& r) { return std::string(cell_status_name(r.status)); },
       nullptr, nullptr},
      TEXT(size),
      INTEGER(d_model),
      INTEGER(n_layers),
      INTEGER(n_heads),
      NUMBER("sparsity", r.sparsity),
      TEXT(schedule),
      NUMBER("dense_frac", r.dense_frac),
      NUMBER("prune_end_frac", r.prune_end_frac),
      NUMBER("tokens_per_param", r.tokens_per_param),
      INTEGER(seed),
      NUMBER("n_avg", r.n_avg),
      NUMBER("n_final", r.n_final),
      NUMBER("n_initial", r.n_initial),
      NUMBER("embedding_params", r.embedding_params),
      INTEGER(tokens),
      NUMBER("compute", r.compute),
      NUMBER("loss", r.eval_loss),
      NUMBER("final_train_loss", r.final_loss),
      INTEGER(steps_done),
      INTEGER(total_steps),
      NUMBER("wall_s", r.wall_s),
      NUMBER("tokens_per_s", r.tokens_per_s),
      INTEGER(group_size),
      INTEGER(attempts),
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

// A cell's CSV history (metrics.csv or eval.csv) as named numeric columns.
std::vector<std::pair<std::string, std::vector<double>>> read_history(const std::string& path) {
  std::vector<std::pair<std::string, std::vector<double>>> cols;
  std::ifstream in(path);
  std::string line, field;
  if (!std::getline(in, line)) return cols;
  std::istringstream header(line);
  while (std::getline(header, field, ',')) cols.push_back({field, {}});
  while (std::getline(in, line)) {
    std::istringstream row(line);
    for (auto& col : cols) {
      if (!std::getline(row, field, ',')) break;
      col.second.push_back(std::strtod(field.c_str(), nullptr));
    }
  }
  return cols;
}

}  // namespace

std::string cell_dir(const std::string& sweep_dir, const std::string& cell_id) {
  return sweep_dir + "/cells/" + cell_id;
}

void write_results(const Ledger& ledger) {
  const auto& records = ledger.records();
  std::ostringstream csv;
  csv.precision(10);
  for (size_t c = 0; c < columns().size(); ++c) csv << (c ? "," : "") << columns()[c].name;
  csv << "\n";
  for (const CellRecord& r : records) {
    for (size_t c = 0; c < columns().size(); ++c) {
      const ColumnSpec& col = columns()[c];
      csv << (c ? "," : "");
      if (col.text) csv << csv_field(col.text(r));
      if (col.number) csv << col.number(r);
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
    const std::string dir = cell_dir(ledger.dir(), r.id);
    for (const char* file : {"metrics.csv", "eval.csv"}) {
      for (auto& [name, values] : read_history(dir + "/" + file)) {
        const std::string series =
            std::string(file) == "eval.csv" && name == "step" ? "eval_step" : name;
        h5.write_column("histories/" + r.id + "/" + series, values);
      }
    }
  }
  h5.commit();
}

}  // namespace journey
