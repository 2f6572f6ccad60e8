#include "fit/fit_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "common/error.h"
#include "common/named_values.h"

namespace journey {
namespace {

double size_of(const RunRecord& run, SizeVariable v) {
  switch (v) {
    case SizeVariable::kAverage:
      return run.n_avg;
    case SizeVariable::kFinal:
      return run.n_final;
    case SizeVariable::kInitial:
      return run.n_initial;
  }
  return run.n_avg;
}

std::string sparsity_label(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", s);
  return buf;
}

template <typename Get>
Range range_of(const std::vector<RunRecord>& runs, Get get) {
  Range r{get(runs.front()), get(runs.front())};
  for (const RunRecord& run : runs) {
    r.min = std::min(r.min, get(run));
    r.max = std::max(r.max, get(run));
  }
  return r;
}

}  // namespace

namespace {

// "all" names every row, in this order.
constexpr NamedValue<SizeVariable> kSizeVariableNames[] = {
    {"avg", SizeVariable::kAverage},
    {"final", SizeVariable::kFinal},
    {"initial", SizeVariable::kInitial},
};

}  // namespace

const char* size_variable_name(SizeVariable v) {
  return name_of(kSizeVariableNames, v);
}

std::vector<SizeVariable> parse_size_variables(const std::string& name) {
  std::vector<SizeVariable> variables;
  for (const auto& row : kSizeVariableNames) {
    if (name == row.name || name == "all") variables.push_back(row.value);
  }
  if (variables.empty()) {
    std::string names;
    for (const auto& row : kSizeVariableNames) names += std::string(row.name) + ", ";
    throw UsageError("--size-variable '" + name + "': expected " + names + "or all");
  }
  return variables;
}

std::string LawReport::label() const {
  return std::string(law_form_name(form)) + " N=" + size_variable_name(size_variable);
}

std::vector<LawPoint> law_points(const std::vector<RunRecord>& runs, LawForm form,
                                 SizeVariable variable) {
  std::vector<LawPoint> points;
  for (const RunRecord& run : runs) {
    const double n = form == LawForm::kSparse ? run.n_final : size_of(run, variable);
    points.push_back(make_law_point(n, run.tokens, run.sparsity, run.loss));
  }
  return points;
}

std::vector<std::string> degenerate_reasons(const LawReport& law, double min_loss) {
  std::vector<std::string> reasons;
  char text[200];
  for (const CoefficientInterval& c : law.bootstrap.coefficients) {
    if (c.name == "E") {
      if (c.estimate < 1e-3 * min_loss) {
        std::snprintf(text, sizeof text,
                      "E = %.3g collapsed to zero: the irreducible loss is not identified",
                      c.estimate);
        reasons.push_back(text);
      } else if (c.estimate >= min_loss) {
        std::snprintf(text, sizeof text,
                      "E = %.4g is not below the lowest loss fitted (%.4g): the law leaves no "
                      "room for the size and data terms",
                      c.estimate, min_loss);
        reasons.push_back(text);
      }
    }
    if (!std::isfinite(c.se) || c.se > std::fabs(c.estimate)) {
      std::snprintf(text, sizeof text,
                    "%s = %.4g has a bootstrap standard error of %.3g, %s: the data do not pin "
                    "it down",
                    c.name.c_str(), c.estimate, c.se,
                    std::isfinite(c.se) ? "larger than the estimate" : "not finite");
      reasons.push_back(text);
    }
  }
  return reasons;
}

FitReport make_fit_report(const ResultsTable& table, const FitReportOptions& options) {
  FitReport report;
  report.source = table.path;
  report.runs = static_cast<int>(table.runs.size());
  report.skipped = table.skipped;
  report.fit = options.fit;
  report.bootstrap = options.bootstrap;
  const std::vector<RunRecord>& runs = table.runs;
  report.n_avg = range_of(runs, [](const RunRecord& r) { return r.n_avg; });
  report.n_final = range_of(runs, [](const RunRecord& r) { return r.n_final; });
  report.n_initial = range_of(runs, [](const RunRecord& r) { return r.n_initial; });
  report.tokens = range_of(runs, [](const RunRecord& r) { return r.tokens; });
  report.sparsity = range_of(runs, [](const RunRecord& r) { return r.sparsity; });
  report.compute = range_of(runs, [](const RunRecord& r) { return 6.0 * r.n_avg * r.tokens; });
  std::map<std::string, std::set<double>> tokens_by_size;
  for (const RunRecord& run : runs) tokens_by_size[run.size].insert(run.tokens);
  report.sizes = static_cast<int>(tokens_by_size.size());
  for (const auto& [size, tokens] : tokens_by_size) {
    report.durations_per_size =
        std::max(report.durations_per_size, static_cast<int>(tokens.size()));
  }
  if (report.sizes < kMinSizes || report.durations_per_size < kMinDurations) {
    report.notes.push_back(
        "the runs cover " + std::to_string(report.sizes) + " model size(s) and at most " +
        std::to_string(report.durations_per_size) +
        " duration(s) per size; separating A/N^alpha from B/D^beta needs at least " +
        std::to_string(kMinSizes) + " sizes and " + std::to_string(kMinDurations) +
        " durations, so these coefficients describe these runs, not a scaling law");
  }
  const double min_loss = range_of(runs, [](const RunRecord& r) { return r.loss; }).min;
  const int sample = options.fit.sample_size;
  if (sample > 0 && report.runs > sample) {
    const std::string m = std::to_string(sample);
    report.notes.push_back(
        std::to_string(report.runs) + " runs, more than the sample size " + m +
        ": each law's start grid ran on " + std::to_string(std::min(sample, kGridSampleSize)) +
        " sampled runs and its best optima were refitted on all; each bootstrap resample drew " +
        m + " runs, its deviation from the fit scaled by sqrt(" + m + " / " +
        std::to_string(report.runs) + ") (the m-out-of-n bootstrap); held-out refits fit " + m +
        " of the runs left (docs/fit.md)");
  }

  std::vector<std::string> size_groups, sparsity_groups;
  std::set<std::string> sparsities;
  for (const RunRecord& run : runs) {
    size_groups.push_back(run.size);
    sparsity_groups.push_back(sparsity_label(run.sparsity));
    sparsities.insert(sparsity_groups.back());
  }
  for (const auto& [kind, count] :
       {std::pair<const char*, size_t>{"model sizes", static_cast<size_t>(report.sizes)},
        {"sparsities", sparsities.size()}}) {
    if (count > static_cast<size_t>(kMaxFolds)) {
      report.notes.push_back("the runs hold " + std::to_string(count) + " " + kind +
                             ": they are held out in " + std::to_string(kMaxFolds) +
                             " folds of several each (fit/validation.h)");
    }
  }

  auto analyse = [&](LawForm form, SizeVariable variable,
                     const std::vector<std::vector<double>>& starts) {
    LawReport law;
    law.form = form;
    law.size_variable = variable;
    const std::vector<LawPoint> points = law_points(runs, form, variable);
    law.fit = fit_law(form, points, starts, options.fit);
    law.bootstrap = bootstrap_fit(points, law.fit, options.fit, options.bootstrap);
    law.validation = validate_law(points, size_groups, sparsity_groups, law.fit, options.fit);
    law.degenerate = degenerate_reasons(law, min_loss);
    for (const std::string& reason : law.degenerate) {
      report.notes.push_back("degenerate fit, " + law.label() + ": " + reason);
    }
    return law;
  };

  const std::vector<std::vector<double>> grid = chinchilla_start_grid();
  for (SizeVariable v : options.size_variables) {
    report.laws.push_back(analyse(LawForm::kChinchilla, v, grid));
  }
  double best_score = INFINITY;
  for (size_t i = 0; i < report.laws.size(); ++i) {
    const Validation& v = report.laws[i].validation;
    const double held_out = v.held_out_mae();
    const double score = std::isnan(held_out) ? v.in_sample.mae : held_out;
    if (score < best_score) {
      best_score = score;
      report.best = static_cast<int>(i);
    }
  }
  if (std::isnan(report.laws[report.best].validation.held_out_mae())) {
    report.notes.push_back(
        "no group could be held out (a single size and sparsity, or too few runs left to "
        "refit): best size variable by in-sample MAE");
  }

  if (sparsities.size() < 2) {
    report.notes.push_back("sparse law (Frantar et al.) not fitted: every run has sparsity " +
                           *sparsities.begin() + ", so S and a_S, b_S, c_S are not identifiable");
  } else if (report.runs < parameter_count(LawForm::kSparse) + 1) {
    report.notes.push_back(
        "sparse law (Frantar et al.) not fitted: it has 7 parameters and "
        "needs at least 8 runs");
  } else {
    const FitResult* final_fit = nullptr;
    for (const LawReport& law : report.laws) {
      if (law.size_variable == SizeVariable::kFinal) final_fit = &law.fit;
    }
    FitResult own;
    if (final_fit == nullptr) {
      own =
          fit_law(LawForm::kChinchilla,
                  law_points(runs, LawForm::kChinchilla, SizeVariable::kFinal), grid, options.fit);
      final_fit = &own;
    }
    report.laws.push_back(
        analyse(LawForm::kSparse, SizeVariable::kFinal, sparse_start_grid(*final_fit)));
  }
  return report;
}

}  // namespace journey
