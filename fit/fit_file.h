// The files `journey fit` writes and `journey plan` reads (docs/fit.md, "Output files").
//
// fit.json: the whole report: source, run counts, options (Huber delta, reduction, sample
// size of large tables, bootstrap resamples and seed), the data ranges, and per law its form,
// size variable, objective, parameters x, coefficients (estimate, se, ci95) and validation
// errors, plus the best size variable and notes. "format": "journey-fit", "version": 1.
// fit.csv: one row per law and coefficient:
//   form,size_variable,coefficient,estimate,se,ci95_low,ci95_high
// Both are written to a temporary file in the same directory and renamed into place, so a
// reader never sees half a file and a failed write leaves the old one intact.
//
// read_fit_document() opens a fit.json and checks that it is one; read_fit_json() and the
// report (report/fit_summary.h) read the fields they need from it.
//
// Errors: DataError naming the file for an unwritable directory, an unreadable or foreign
// fit.json, or one without a Chinchilla law with N = N-bar.
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
  Law law;                  // Chinchilla, N = N-bar.
  double max_sparsity = 0;  // The largest sparsity among the runs fitted.
  std::string source;       // The results the fit came from.
  FitEvidence evidence;     // How far that law can be trusted (fit/planner.h).
};

SavedFit read_fit_json(const std::string& path);

}  // namespace journey
