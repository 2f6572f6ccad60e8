#include "report/fit_summary.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/error.h"
#include "fit/fit_file.h"
#include "fit/lr_selection.h"
#include "fit/results_csv.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace journey {
namespace {

double number_or_nan(const json& j) {
  return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

FitError read_error(const json& j) {
  FitError e;
  if (j.is_null()) return e;
  e.mae = number_or_nan(j.at("mae"));
  e.max = number_or_nan(j.at("max"));
  e.points = j.at("points").get<int>();
  e.groups = j.at("groups").get<int>();
  return e;
}

LawForm parse_form(const std::string& name, const std::string& path) {
  const std::optional<LawForm> form = law_form_named(name);
  if (!form) throw DataError(path + ": unknown law form '" + name + "'");
  return *form;
}

FittedLaw read_law(const json& j, const std::string& path) {
  FittedLaw law;
  law.form = j.at("form").get<std::string>();
  law.size_variable = j.at("size_variable").get<std::string>();
  law.law.form = parse_form(law.form, path);
  law.law.x = j.at("parameters").get<std::vector<double>>();
  if (static_cast<int>(law.law.x.size()) != parameter_count(law.law.form)) {
    throw DataError(path + ": the " + law.form + " law has " + std::to_string(law.law.x.size()) +
                    " parameters, expected " + std::to_string(parameter_count(law.law.form)));
  }
  // The file keeps coefficients in an object; list them in the law's own order.
  const json& coefficients = j.at("coefficients");
  for (const std::string& name : coefficient_names(law.law.form)) {
    const json& c = coefficients.at(name);
    law.coefficients.push_back({name, number_or_nan(c.at("estimate")), number_or_nan(c.at("se")),
                                number_or_nan(c.at("ci95").at(0)),
                                number_or_nan(c.at("ci95").at(1))});
  }
  const json& v = j.at("validation");
  law.in_sample = read_error(v.at("in_sample"));
  law.leave_one_size_out = read_error(v.at("leave_one_size_out"));
  law.leave_one_sparsity_out = read_error(v.at("leave_one_sparsity_out"));
  if (j.contains("bootstrap_draws")) {
    law.draws = j.at("bootstrap_draws").get<std::vector<std::vector<double>>>();
  }
  if (j.contains("degenerate")) law.degenerate = j.at("degenerate").get<std::vector<std::string>>();
  return law;
}

bool newer_or_same(const fs::path& a, const fs::path& b) {
  return fs::last_write_time(a) >= fs::last_write_time(b);
}

}  // namespace

std::string FittedLaw::label() const {
  return form == "sparse" ? "sparse (Frantar et al.)" : form + " N=" + size_variable;
}

const FittedLaw* FitSummary::chinchilla(const std::string& size_variable) const {
  for (const FittedLaw& law : laws) {
    if (law.form == "chinchilla" && law.size_variable == size_variable) return &law;
  }
  return nullptr;
}

const FittedLaw* FitSummary::named(const std::string& name) const {
  if (name != "sparse") return chinchilla(name);
  for (const FittedLaw& law : laws) {
    if (law.form == "sparse") return &law;
  }
  return nullptr;
}

FitSummary read_fit_summary(const std::string& path) {
  const json doc = read_fit_document(path);
  FitSummary s;
  s.path = path;
  try {
    s.source = doc.value("source", "");
    s.runs = doc.at("runs").get<int>();
    s.skipped = doc.at("skipped").get<int>();
    s.resamples = doc.at("bootstrap").at("resamples").get<int>();
    s.seed = doc.at("bootstrap").at("seed").get<uint64_t>();
    s.best_size_variable = doc.at("best_size_variable").get<std::string>();
    s.max_sparsity = doc.at("data_range").at("sparsity").at(1).get<double>();
    for (const json& law : doc.at("laws")) s.laws.push_back(read_law(law, path));
    s.notes = doc.at("notes").get<std::vector<std::string>>();
    if (doc.contains("coverage")) {
      s.sizes = doc.at("coverage").at("sizes").get<int>();
      s.durations_per_size = doc.at("coverage").at("durations_per_size").get<int>();
    }
  } catch (const json::exception& e) {
    throw DataError(path + ": missing or malformed field: " + e.what());
  }
  return s;
}

namespace {

// The results file of a directory as fit/results_csv.h names it (and fit.json's "source").
std::string results_file(const std::string& dir) {
  return dir + (!dir.empty() && dir.back() == '/' ? "" : "/") + "results.csv";
}

bool selected_best_lr(const FitSummary& fit) {
  for (const std::string& note : fit.notes) {
    if (note.rfind("lr selection: ", 0) == 0) return true;
  }
  return false;
}

}  // namespace

FitStatus load_or_fit(const std::vector<std::string>& dirs, const std::string& fit_dir,
                      int done_cells, const FitReportOptions& options, bool select_best_lr) {
  // A directory keeping its own fit uses it as it is, also one made with --select best-lr (by
  // the sweep itself, or by hand) when this report does not ask for a selection.
  const bool own_fit = dirs.size() == 1 && fit_dir == dirs.front();
  FitStatus status;
  std::string source;
  for (const std::string& dir : dirs) source += (source.empty() ? "" : ", ") + results_file(dir);
  const fs::path fit_json = fs::path(fit_dir) / "fit.json";
  if (fs::exists(fit_json)) {
    bool current = true;
    for (const std::string& dir : dirs) {
      const std::string results = results_file(dir);
      current = current && (fs::exists(results) ? newer_or_same(fit_json, results) : own_fit);
    }
    if (current) {
      FitSummary saved = read_fit_summary(fit_json.string());
      // A directory's own fit.json may name its results differently (`journey fit` given
      // another spelling of the path): only a merged fit is checked by its source.
      const bool same_runs = own_fit || saved.source == source;
      const bool same_selection =
          selected_best_lr(saved) == select_best_lr || (own_fit && !select_best_lr);
      if (same_runs && same_selection) {
        status.fit = std::move(saved);
        return status;
      }
    }
  }
  for (const std::string& dir : dirs) {
    if (!fs::exists(results_file(dir))) {
      status.note = "no fit: " + results_file(dir) + " does not exist yet";
      return status;
    }
  }
  if (done_cells < kMinRuns) {
    status.note = "no fit: " + std::to_string(done_cells) + " cell" +
                  (done_cells == 1 ? " is" : "s are") +
                  " done; the scaling-law fit needs at least " + std::to_string(kMinRuns);
    return status;
  }
  ResultsTable table = read_results_csv(dirs);
  std::vector<std::string> selection_notes;
  if (select_best_lr) {
    const LrSelection selection = journey::select_best_lr(table.runs);
    selection_notes = describe(selection);
    table.runs = selection.runs;
    if (static_cast<int>(table.runs.size()) < kMinRuns) {
      status.note = "no fit: --select best-lr leaves " + std::to_string(table.runs.size()) +
                    " runs; the scaling-law fit needs at least " + std::to_string(kMinRuns);
      return status;
    }
  }
  std::error_code ec;
  fs::create_directories(fit_dir, ec);
  if (ec) throw DataError("cannot create directory " + fit_dir + ": " + ec.message());
  FitReport report = make_fit_report(table, options);
  report.notes.insert(report.notes.begin(), selection_notes.begin(), selection_notes.end());
  write_fit_json(report, fit_json.string());
  write_fit_csv(report, (fs::path(fit_dir) / "fit.csv").string());
  status.fit = read_fit_summary(fit_json.string());
  status.fit->computed_now = true;
  return status;
}

}  // namespace journey
