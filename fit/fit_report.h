// Everything `journey fit` computes from a results table: the Chinchilla law with each
// requested size variable and the sparse law of Frantar et al., each with bootstrap
// intervals and validation errors, and which size variable predicts best.
//
// Size variables (the N of the Chinchilla law): "avg" is N-bar, the average active prunable
// parameter count over the run (Jin et al. 2025); "final" is N_final; "initial" is
// N_initial, the dense size. The sparse law always uses N_final and the sparsity S.
//
// Fits: the Chinchilla law from the 4500-start grid; the sparse law from
// sparse_start_grid() around the Chinchilla fit with N = N_final (fit/huber_fit.h). A table
// of more runs than FitOptions::sample_size is sampled there, in the bootstrap and in
// validation, and a note says so. The sparse law is left out, with a note, when the runs
// hold fewer than two sparsities (S and its three coefficients are then not identifiable) or
// fewer than eight runs (seven parameters).
//
// "Best" size variable: the lowest held-out MAE (leave-one-size-out and
// leave-one-sparsity-out pooled, fit/validation.h), or the lowest in-sample MAE when no
// group can be held out. Errors: none beyond those of the parts.
#pragma once

#include <string>
#include <vector>

#include "fit/bootstrap.h"
#include "fit/huber_fit.h"
#include "fit/results_csv.h"
#include "fit/validation.h"

namespace journey {

enum class SizeVariable { kAverage, kFinal, kInitial };

// "avg", "final", "initial".
const char* size_variable_name(SizeVariable v);
// Accepts those names, or "all" for the three; throws UsageError otherwise.
std::vector<SizeVariable> parse_size_variables(const std::string& name);

struct LawReport {
  LawForm form = LawForm::kChinchilla;
  SizeVariable size_variable = SizeVariable::kAverage;
  FitResult fit;
  BootstrapResult bootstrap;
  Validation validation;
  // Why its coefficients cannot be trusted, empty when nothing is wrong: E collapsed to 0 or
  // above the lowest observed loss, or a bootstrap standard error that is not finite or
  // larger than its estimate (degenerate_reasons()).
  std::vector<std::string> degenerate;
  std::string label() const;  // e.g. "chinchilla N=avg"
};

struct Range {
  double min = 0, max = 0;
};

struct FitReport {
  std::string source;  // The CSV read.
  int runs = 0, skipped = 0;
  FitOptions fit;
  BootstrapOptions bootstrap;
  std::vector<LawReport> laws;     // Chinchilla laws in request order, then the sparse law.
  int best = -1;                   // Index in laws of the best Chinchilla size variable.
  std::vector<std::string> notes;  // Data coverage and degenerate laws, for people.
  Range n_avg, n_final, n_initial, tokens, sparsity;  // Of the runs fitted.
  Range compute;                                      // C = 6 N-bar D of the runs fitted.
  int sizes = 0;                                      // Distinct model sizes fitted...
  int durations_per_size = 0;  // ...and the most distinct D any one size has.
};

// A law needs at least this many sizes and durations per size to separate A/N^alpha from
// B/D^beta; with fewer, the fit is flagged.
constexpr int kMinSizes = 3;
constexpr int kMinDurations = 2;

// Why `law` cannot be trusted, as sentences (see LawReport::degenerate); `min_loss` is the
// lowest loss fitted.
std::vector<std::string> degenerate_reasons(const LawReport& law, double min_loss);

struct FitReportOptions {
  std::vector<SizeVariable> size_variables{SizeVariable::kAverage, SizeVariable::kFinal,
                                           SizeVariable::kInitial};
  FitOptions fit;
  BootstrapOptions bootstrap;
};

FitReport make_fit_report(const ResultsTable& table, const FitReportOptions& options);

// The runs as a law sees them: N from `variable` (the sparse law: N_final).
std::vector<LawPoint> law_points(const std::vector<RunRecord>& runs, LawForm form,
                                 SizeVariable variable);

}  // namespace journey
