#include "report/sweep_data.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "common/error.h"
#include "io/whole_file.h"
#include "sweep/ledger.h"

namespace fs = std::filesystem;

namespace journey {
namespace {

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, sep)) fields.push_back(field);
  if (!line.empty() && line.back() == sep) fields.push_back("");
  return fields;
}

// A numeric CSV (no quoting: the trainer writes numbers only) as named columns.
std::map<std::string, std::vector<double>> read_columns(const std::string& text,
                                                        const std::string& origin) {
  std::map<std::string, std::vector<double>> columns;
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

const std::vector<double>& column(const std::map<std::string, std::vector<double>>& columns,
                                  const std::string& name, const std::string& origin) {
  const auto it = columns.find(name);
  if (it == columns.end()) throw DataError(origin + " has no column '" + name + "'");
  return it->second;
}

}  // namespace

int SweepData::count(CellStatus status) const {
  int n = 0;
  for (const SweepCell& cell : cells) n += cell.record.status == status;
  return n;
}

CellHistory parse_cell_history(const std::string& metrics_csv, const std::string& eval_csv,
                               const std::string& origin) {
  CellHistory h;
  const std::string metrics_origin = origin + "/metrics.csv";
  const auto metrics = read_columns(metrics_csv, metrics_origin);
  if (!metrics.empty()) {
    const auto& step = column(metrics, "step", metrics_origin);
    const auto& loss = column(metrics, "loss", metrics_origin);
    const auto& active = column(metrics, "active", metrics_origin);
    const auto& density = column(metrics, "density", metrics_origin);
    const auto& tokens = column(metrics, "tokens", metrics_origin);
    double compute = 0, tokens_before = 0;
    for (size_t i = 0; i < step.size(); ++i) {
      // `tokens` counts tokens seen after the step, so its increment is the step's batch.
      compute += 6.0 * active[i] * (tokens[i] - tokens_before);
      tokens_before = tokens[i];
      h.steps.push_back(static_cast<int64_t>(step[i]) + 1);
      h.loss.push_back(loss[i]);
      h.density.push_back(density[i]);
      h.compute.push_back(compute);
    }
  }
  const std::string eval_origin = origin + "/eval.csv";
  const auto evals = read_columns(eval_csv, eval_origin);
  if (!evals.empty()) {
    const auto& step = column(evals, "step", eval_origin);
    const auto& loss = column(evals, "eval_loss", eval_origin);
    for (size_t i = 0; i < step.size(); ++i) {
      h.eval_steps.push_back(static_cast<int64_t>(step[i]));
      h.eval_loss.push_back(loss[i]);
    }
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
    if (cell.history.empty() && record.status == CellStatus::kDone) {
      data.warnings.push_back("cell " + record.id + " is done but " + cell_dir.string() +
                              " holds no metrics.csv or eval.csv");
    }
    data.cells.push_back(std::move(cell));
  }
  return data;
}

}  // namespace journey
