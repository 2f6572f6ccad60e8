// The files `journey fit` writes and `journey plan` reads (docs/fit.md, "Output files").
//
// fit.json: the whole report: source, run counts, options (Huber delta, reduction, sample
// size of large tables, bootstrap resamples and seed), the data ranges, and per law its form,
// size variable, objective, parameters x, coefficients (estimate, se, ci95), bootstrap draws
// (each resample's coefficients; older files have none) and validation errors, plus the best size
// variable and notes. "format": "journey-fit", "version": 1. fit.csv: one row per law and
// coefficient:
//   form,size_variable,coefficient,estimate,se,ci95_low,ci95_high
// Both are written to a temporary file in the same directory and renamed into place, so a
// reader never sees half a file and a failed write leaves the old one intact.
//
// read_fit_document() opens a fit.json and checks that it is one; read_fit_json() and the
// report (report/fit_summary.h) read the fields they need from it.
//
// Errors: DataError naming the file for an unwritable directory, an unreadable or foreign
// fit.json, or one without the law asked for (by default the Chinchilla law with N = N-bar).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "fit/fit_report.h"
#include "fit/planner.h"

namespace journey {

void write_fit_json(const FitReport& report, const std::string& path);
void write_fit_csv(const FitReport& report, const std::string& path);

// The parsed fit.json at `path`: a JSON object whose "format" is "journey-fit". DataError when
// the file cannot be read, is not JSON, or is not a fit.json. Its fields are not checked.
nlohmann::json read_fit_document(const std::string& path);

// What planning needs from fit.json.
struct SavedFit {
  Law law;                  // The law chosen (read_fit_json(path): Chinchilla, N = N-bar).
  double max_sparsity = 0;  // The largest sparsity among the runs fitted.
  std::string source;       // The results the fit came from.
  FitEvidence evidence;     // How far that law can be trusted (fit/planner.h).

  // The law's name (avg, final, initial: the Chinchilla law with that N; sparse: Frantar et
  // al.) and its N (the sparse law's is N_final).
  std::string law_name = "avg";
  SizeVariable size_variable = SizeVariable::kAverage;
  // Its bootstrap draws (natural-scale coefficients, one vector per resample; fit.json's
  // "bootstrap_draws"). has_draws is false for a fit.json written before they were stored.
  std::vector<std::vector<double>> draws;
  bool has_draws = false;
  // Every law fit.json holds, in its order, with its validation errors (NaN: not
  // applicable), and fit.json's "best_size_variable" ("avg" when it has none).
  struct LawChoice {
    std::string name;
    double held_out_mae = 0, in_sample_mae = 0;
  };
  std::vector<LawChoice> laws;
  std::string best = "avg";
};

// The N-bar law (the report's plan).
SavedFit read_fit_json(const std::string& path);
// The law named `law` (avg, final, initial or sparse), or, when `law` is empty, the one
// `journey fit` validated best (best_size_variable). UsageError listing the laws fit.json
// holds for a name it does not hold.
SavedFit read_fit_json(const std::string& path, const std::string& law);

// "N-bar law", "N_final law", "N_initial law" or "sparse law", for `name` as above.
std::string law_label(const std::string& name);

}  // namespace journey
