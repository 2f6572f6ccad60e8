// The scaling-law fit as the report shows it: fit.json (fit/fit_file.h) read back into
// tables and usable laws, computed first when it is missing or stale.
//
// load_or_fit(dirs, fit_dir, ...): the fit over the dirs' results.csv files as one data set
// (fit/results_csv.h), kept in fit_dir (a sweep's own directory, or the report's beside the
// page). fit_dir/fit.json is used as it is when it is at least as new as every results.csv
// and was fitted from exactly those files (its "source"; a directory's own fit.json is also
// used when there is no results.csv). Otherwise, with at least kMinRuns done cells, the fit
// is computed in process (fit/fit_report.h make_fit_report, the same as `journey fit`) and
// written to fit_dir/fit.json and fit.csv. With fewer done cells, or a results.csv missing,
// there is no fit: the result holds a note that says why, and the report leaves the law
// parts out. With select_best_lr the runs are first narrowed to each size's best rate
// (fit/lr_selection.h, as `journey fit --select best-lr`), and a fit.json is current only
// when it was fitted so (its notes hold the lr selection); without it, a merged fit.json is
// current only when fitted without a selection, while a directory's own fit.json is used as
// it is (a sweep with several rates per size fits with the selection itself).
//
// Errors: DataError for an unreadable or malformed results.csv or fit.json, or an
// unwritable directory (from fit/).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "fit/fit_report.h"
#include "fit/law.h"

namespace journey {

// A validation entry of fit.json; NaN errors where it does not apply (null in the file).
struct FitError {
  double mae = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
  int points = 0, groups = 0;
};

struct FitCoefficient {
  std::string name;
  double estimate = 0, se = 0, ci_low = 0, ci_high = 0;  // NaN where the file has null.
};

struct FittedLaw {
  std::string form;           // "chinchilla" or "sparse"
  std::string size_variable;  // "avg", "final", "initial" (the sparse law: "final")
  Law law;                    // From the fitted parameters.
  std::vector<FitCoefficient> coefficients;
  FitError in_sample, leave_one_size_out, leave_one_sparsity_out;
  // The bootstrap resamples' coefficients (coefficient order), for uncertainty bands; empty
  // in fit.json files written before they were kept.
  std::vector<std::vector<double>> draws;
  // Why the fit is degenerate (fit/fit_report.h degenerate_reasons); empty when it is not, or
  // in fit.json files written before they were kept.
  std::vector<std::string> degenerate;
  std::string label() const;  // e.g. "chinchilla N=avg"
};

struct FitSummary {
  std::string path;           // The fit.json read.
  std::string source;         // The results it was fitted from (fit.json "source").
  bool computed_now = false;  // Fitted by this report rather than read from an older run.
  int runs = 0, skipped = 0;
  int resamples = 0;
  uint64_t seed = 0;
  std::string best_size_variable;
  double max_sparsity = 0;  // The largest sparsity fitted: the planner's bound.
  std::vector<FittedLaw> laws;
  std::vector<std::string> notes;
  // Coverage of the runs (fit.json "coverage"; the minimum when absent): with fewer than
  // kMinSizes sizes or kMinDurations durations per size no law separates A/N^alpha from
  // B/D^beta, so every law is unreliable.
  int sizes = kMinSizes, durations_per_size = kMinDurations;
  bool thin_coverage() const { return sizes < kMinSizes || durations_per_size < kMinDurations; }

  // The Chinchilla law with this size variable, or nullptr.
  const FittedLaw* chinchilla(const std::string& size_variable) const;
  // The law named as fit/fit_file.h names them (avg, final, initial, sparse), or nullptr.
  const FittedLaw* named(const std::string& name) const;
};

struct FitStatus {
  std::optional<FitSummary> fit;
  std::string note;  // Why there is no fit (empty when there is one).
};

FitStatus load_or_fit(const std::vector<std::string>& dirs, const std::string& fit_dir,
                      int done_cells, const FitReportOptions& options, bool select_best_lr);

FitSummary read_fit_summary(const std::string& path);

}  // namespace journey
