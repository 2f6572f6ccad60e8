#include "run/metrics_history.h"

#include <cerrno>
#include <cstdlib>
#include <map>
#include <sstream>
#include <type_traits>

#include "common/error.h"
#include "io/atomic_file.h"
#include "io/checkpoint_file.h"
#include "io/whole_file.h"

namespace journey {
namespace {

constexpr char kPrefix[] = "history/";

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, sep)) fields.push_back(field);
  if (!line.empty() && line.back() == sep) fields.push_back("");
  return fields;
}

using Columns = std::map<std::string, std::vector<double>>;

// A numeric CSV (no quoting: the trainer writes numbers only) as named columns.
Columns read_columns(const std::string& text, const std::string& origin) {
  Columns columns;
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return columns;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const std::vector<std::string> names = split(line, ',');
  for (const std::string& name : names) columns[name];
  int line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::vector<std::string> fields = split(line, ',');
    if (fields.size() != names.size()) {
      throw DataError(origin + " line " + std::to_string(line_number) + ": " +
                      std::to_string(fields.size()) + " fields, expected " +
                      std::to_string(names.size()));
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      char* end = nullptr;
      errno = 0;
      const double value = std::strtod(fields[i].c_str(), &end);
      if (fields[i].empty() || *end != '\0' || errno == ERANGE) {
        throw DataError(origin + " line " + std::to_string(line_number) + ", column '" + names[i] +
                        "': '" + fields[i] + "' is not a number");
      }
      columns[names[i]].push_back(value);
    }
  }
  return columns;
}

const std::vector<double>* find_column(const Columns& columns, const std::string& name,
                                       bool required, const std::string& origin) {
  const auto it = columns.find(name);
  if (it != columns.end()) return &it->second;
  if (required) throw DataError(origin + " has no column '" + name + "'");
  return nullptr;
}

}  // namespace

double MetricsHistory::mean_active() const {
  if (steps.empty()) return 0.0;
  long double sum = 0;
  for (const StepRecord& r : steps) sum += r.active;
  return static_cast<double>(sum / steps.size());
}

void MetricsHistory::save(CheckpointWriter& w) const {
#define X(field)                                                 \
  {                                                              \
    std::vector<decltype(StepRecord::field)> series;             \
    for (const StepRecord& r : steps) series.push_back(r.field); \
    w.write_series(std::string(kPrefix) + #field, series);       \
  }
  JOURNEY_STEP_RECORD_FIELDS(X)
#undef X
  std::vector<int64_t> eval_step;
  std::vector<double> eval_loss;
  for (const EvalRecord& e : evals) {
    eval_step.push_back(e.step);
    eval_loss.push_back(e.loss);
  }
  w.write_series(std::string(kPrefix) + "eval_step", eval_step);
  w.write_series(std::string(kPrefix) + "eval_loss", eval_loss);
  if (prunes.empty()) return;
  std::vector<int64_t> prune_step, alive;
  for (const PruneRecord& p : prunes) {
    prune_step.push_back(p.step);
    alive.insert(alive.end(), p.alive.begin(), p.alive.end());
  }
  w.write_series(std::string(kPrefix) + "prune_step", prune_step);
  w.write_tensor(
      std::string(kPrefix) + "matrix_active", DType::kInt64,
      {static_cast<int64_t>(prunes.size()), static_cast<int64_t>(prunes.front().alive.size())},
      alive.data());
}

MetricsHistory MetricsHistory::load(const CheckpointReader& r) {
  MetricsHistory h;
  const size_t n = r.read_series_int(std::string(kPrefix) + "step").size();
  h.steps.resize(n);
#define X(field)                                                                                   \
  {                                                                                                \
    const std::string path = std::string(kPrefix) + #field;                                        \
    if constexpr (std::is_integral_v<decltype(StepRecord::field)>) {                               \
      const std::vector<int64_t> series = r.read_series_int(path);                                 \
      if (series.size() != n) throw DataError("history series " + path + " has the wrong length"); \
      for (size_t i = 0; i < n; ++i) h.steps[i].field = series[i];                                 \
    } else {                                                                                       \
      const std::vector<double> series = r.read_series_double(path);                               \
      if (series.size() != n) throw DataError("history series " + path + " has the wrong length"); \
      for (size_t i = 0; i < n; ++i) h.steps[i].field = series[i];                                 \
    }                                                                                              \
  }
  JOURNEY_STEP_RECORD_FIELDS(X)
#undef X
  std::vector<int64_t> eval_step = r.read_series_int(std::string(kPrefix) + "eval_step");
  std::vector<double> eval_loss = r.read_series_double(std::string(kPrefix) + "eval_loss");
  if (eval_step.size() != eval_loss.size()) {
    throw DataError("history series eval_step and eval_loss differ in length");
  }
  for (size_t i = 0; i < eval_step.size(); ++i) h.evals.push_back({eval_step[i], eval_loss[i]});
  // Checkpoints written before per-matrix counts were recorded have none.
  const std::string prune_step_path = std::string(kPrefix) + "prune_step";
  if (r.contains(prune_step_path)) {
    const std::vector<int64_t> prune_step = r.read_series_int(prune_step_path);
    const std::string matrix_path = std::string(kPrefix) + "matrix_active";
    const TensorInfo info = r.info(matrix_path);
    if (info.dtype != DType::kInt64 || info.shape.size() != 2 ||
        info.shape[0] != static_cast<int64_t>(prune_step.size())) {
      throw DataError("history series " + matrix_path + " does not match " + prune_step_path);
    }
    std::vector<int64_t> alive(static_cast<size_t>(info.elements()));
    r.read_tensor(matrix_path, alive.data());
    const size_t matrices = static_cast<size_t>(info.shape[1]);
    for (size_t e = 0; e < prune_step.size(); ++e) {
      h.prunes.push_back({prune_step[e], std::vector<int64_t>(alive.begin() + e * matrices,
                                                              alive.begin() + (e + 1) * matrices)});
    }
  }
  return h;
}

void MetricsHistory::write_csv(const std::string& dir) const {
  std::ostringstream m;
  m.precision(9);
  std::string header;
#define X(field) header += std::string(header.empty() ? "" : ",") + #field;
  JOURNEY_STEP_RECORD_FIELDS(X)
#undef X
  m << header << '\n';
  for (const StepRecord& r : steps) {
    const char* sep = "";
#define X(field)       \
  m << sep << r.field; \
  sep = ",";
    JOURNEY_STEP_RECORD_FIELDS(X)
#undef X
    m << '\n';
  }
  write_file_atomically(dir + "/metrics.csv", m.str());
  std::ostringstream e;
  e.precision(9);
  e << "step,eval_loss\n";
  for (const EvalRecord& r : evals) e << r.step << ',' << r.loss << '\n';
  write_file_atomically(dir + "/eval.csv", e.str());
  if (prunes.empty() || matrix_names.empty()) return;
  std::ostringstream sp;
  sp.precision(9);
  sp << "step";
  for (const std::string& name : matrix_names) sp << ',' << name;
  sp << '\n';
  for (const PruneRecord& p : prunes) {
    sp << p.step;
    for (size_t i = 0; i < p.alive.size() && i < matrix_sizes.size(); ++i) {
      sp << ',' << static_cast<double>(p.alive[i]) / matrix_sizes[i];
    }
    sp << '\n';
  }
  write_file_atomically(dir + "/sparsity.csv", sp.str());
}

MetricsHistory parse_metrics_csv(const std::string& metrics_csv, const std::string& eval_csv,
                                 const std::string& origin) {
  MetricsHistory h;
  const std::string metrics_origin = origin + "/metrics.csv";
  const Columns metrics = read_columns(metrics_csv, metrics_origin);
  if (!metrics.empty()) {
    const size_t n = find_column(metrics, "step", true, metrics_origin)->size();
    h.steps.resize(n);
    for (const char* name : {"loss", "active", "density", "tokens"}) {
      find_column(metrics, name, true, metrics_origin);
    }
#define X(field)                                                                            \
  if (const std::vector<double>* c = find_column(metrics, #field, false, metrics_origin)) { \
    for (size_t i = 0; i < n; ++i) {                                                        \
      h.steps[i].field = static_cast<decltype(StepRecord::field)>((*c)[i]);                 \
    }                                                                                       \
  }
    JOURNEY_STEP_RECORD_FIELDS(X)
#undef X
  }
  const std::string eval_origin = origin + "/eval.csv";
  const Columns evals = read_columns(eval_csv, eval_origin);
  if (!evals.empty()) {
    const std::vector<double>& step = *find_column(evals, "step", true, eval_origin);
    const std::vector<double>& loss = *find_column(evals, "eval_loss", true, eval_origin);
    for (size_t i = 0; i < step.size(); ++i) {
      h.evals.push_back({static_cast<int64_t>(step[i]), loss[i]});
    }
  }
  return h;
}

MetricsHistory read_metrics_csv(const std::string& dir) {
  return parse_metrics_csv(read_file_or_empty(dir + "/metrics.csv"),
                           read_file_or_empty(dir + "/eval.csv"), dir);
}

MatrixDensities read_sparsity_csv(const std::string& dir) {
  const std::string path = dir + "/sparsity.csv";
  MatrixDensities d;
  std::istringstream in(read_file_or_empty(path));
  std::string line;
  if (!std::getline(in, line)) return d;
  std::vector<std::string> header = split(line, ',');
  if (header.empty() || header[0] != "step") throw DataError(path + " does not start with 'step'");
  d.names.assign(header.begin() + 1, header.end());
  int line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    const std::vector<std::string> fields = split(line, ',');
    if (fields.size() != header.size()) {
      throw DataError(path + " line " + std::to_string(line_number) + ": " +
                      std::to_string(fields.size()) + " fields, expected " +
                      std::to_string(header.size()));
    }
    try {
      d.steps.push_back(std::stoll(fields[0]));
      std::vector<double> row;
      for (size_t i = 1; i < fields.size(); ++i) row.push_back(std::stod(fields[i]));
      d.density.push_back(row);
    } catch (const std::exception&) {
      throw DataError(path + " line " + std::to_string(line_number) + ": not a number");
    }
  }
  return d;
}

}  // namespace journey
