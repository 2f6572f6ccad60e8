#include "fit/fit_file.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "io/atomic_file.h"

namespace journey {
namespace {

using nlohmann::json;

// NaN (a kind of validation that does not apply) becomes null.
json number(double x) {
  return std::isfinite(x) ? json(x) : json(nullptr);
}

json range(const Range& r) {
  return json::array({r.min, r.max});
}

// The resamples' coefficients, for uncertainty bands; a degenerate resample's non-finite
// coefficients would not survive JSON, and a band leaves it out anyway.
json finite_draws(const std::vector<std::vector<double>>& draws) {
  json out = json::array();
  for (const std::vector<double>& draw : draws) {
    bool finite = true;
    for (double v : draw) finite = finite && std::isfinite(v);
    if (finite) out.push_back(draw);
  }
  return out;
}

json prediction(const PredictionError& e) {
  return {
      {"mae", number(e.mae)}, {"max", number(e.max)}, {"points", e.points}, {"groups", e.groups}};
}

}  // namespace

void write_fit_json(const FitReport& report, const std::string& path) {
  json laws = json::array();
  for (const LawReport& law : report.laws) {
    json coefficients = json::object();
    for (const CoefficientInterval& c : law.bootstrap.coefficients) {
      coefficients[c.name] = {{"estimate", c.estimate},
                              {"se", number(c.se)},
                              {"ci95", json::array({number(c.ci_low), number(c.ci_high)})}};
    }
    laws.push_back(
        {{"form", law_form_name(law.form)},
         {"size_variable", size_variable_name(law.size_variable)},
         {"objective", law.fit.objective},
         {"parameters", law.fit.law.x},
         {"coefficients", coefficients},
         {"degenerate", law.degenerate},
         {"bootstrap_draws", finite_draws(law.bootstrap.draws)},
         {"validation",
          {{"in_sample", prediction(law.validation.in_sample)},
           {"leave_one_size_out", prediction(law.validation.leave_one_size_out)},
           {"leave_one_sparsity_out", prediction(law.validation.leave_one_sparsity_out)}}}});
  }
  json doc = {
      {"format", "journey-fit"},
      {"version", 1},
      {"source", report.source},
      {"runs", report.runs},
      {"skipped", report.skipped},
      {"objective",
       {{"residual", "log loss"},
        {"huber_delta", report.fit.huber_delta},
        {"reduction", report.fit.reduction == Reduction::kSum ? "sum" : "mean"},
        {"sample_size", report.fit.sample_size}}},
      {"bootstrap", {{"resamples", report.bootstrap.resamples}, {"seed", report.bootstrap.seed}}},
      {"data_range",
       {{"n_avg", range(report.n_avg)},
        {"n_final", range(report.n_final)},
        {"n_initial", range(report.n_initial)},
        {"tokens", range(report.tokens)},
        {"sparsity", range(report.sparsity)},
        {"compute", range(report.compute)}}},
      {"coverage", {{"sizes", report.sizes}, {"durations_per_size", report.durations_per_size}}},
      {"best_size_variable", size_variable_name(report.laws[report.best].size_variable)},
      {"laws", laws},
      {"notes", report.notes}};
  write_file_atomically(path, doc.dump(2) + "\n");
}

void write_fit_csv(const FitReport& report, const std::string& path) {
  std::ostringstream out;
  out.precision(17);
  out << "form,size_variable,coefficient,estimate,se,ci95_low,ci95_high\n";
  for (const LawReport& law : report.laws) {
    for (const CoefficientInterval& c : law.bootstrap.coefficients) {
      out << law_form_name(law.form) << ',' << size_variable_name(law.size_variable) << ','
          << c.name << ',' << c.estimate << ',' << c.se << ',' << c.ci_low << ',' << c.ci_high
          << '\n';
    }
  }
  write_file_atomically(path, out.str());
}

json read_fit_document(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError("cannot read fit " + path + ": " + std::strerror(errno));
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    throw DataError(path + " is not valid JSON: " + e.what());
  }
  if (!doc.is_object() || doc.value("format", "") != "journey-fit") {
    throw DataError(path +
                    " is not a fit.json written by `journey fit` (no \"format\": "
                    "\"journey-fit\")");
  }
  return doc;
}

namespace {

Range read_range(const json& pair) {
  return {pair.at(0).get<double>(), pair.at(1).get<double>()};
}

// What the plan needs to say when it cannot be trusted; fit.json files written before these
// fields existed give the compute range from the N-bar and D ranges and no degeneracy.
void read_evidence(const json& doc, const json& law, FitEvidence* evidence) {
  const json& ranges = doc.at("data_range");
  evidence->n_avg = read_range(ranges.at("n_avg"));
  evidence->tokens = read_range(ranges.at("tokens"));
  evidence->compute = ranges.contains("compute")
                          ? read_range(ranges.at("compute"))
                          : Range{6 * evidence->n_avg.min * evidence->tokens.min,
                                  6 * evidence->n_avg.max * evidence->tokens.max};
  const json& in_sample = law.at("validation").at("in_sample").at("mae");
  evidence->in_sample_mae = in_sample.is_null() ? 0.0 : in_sample.get<double>();
  if (law.contains("degenerate")) {
    evidence->degenerate = law.at("degenerate").get<std::vector<std::string>>();
  }
  if (doc.contains("coverage")) {
    evidence->sizes = doc.at("coverage").at("sizes").get<int>();
    evidence->durations_per_size = doc.at("coverage").at("durations_per_size").get<int>();
  }
}

}  // namespace

SavedFit read_fit_json(const std::string& path) {
  const json doc = read_fit_document(path);
  SavedFit saved;
  try {
    saved.source = doc.value("source", "");
    saved.max_sparsity = doc.at("data_range").at("sparsity").at(1).get<double>();
    if (!(saved.max_sparsity >= 0 && saved.max_sparsity < 1)) {
      throw DataError(path + ": data_range.sparsity[1] is " + std::to_string(saved.max_sparsity) +
                      "; expected a sparsity in [0, 1)");
    }
    for (const json& law : doc.at("laws")) {
      if (law.at("form") != "chinchilla" || law.at("size_variable") != "avg") continue;
      const json& c = law.at("coefficients");
      double v[5];
      const char* names[5] = {"A", "B", "E", "alpha", "beta"};
      for (int i = 0; i < 5; ++i) {
        v[i] = c.at(names[i]).at("estimate").get<double>();
        if (!(v[i] > 0) || !std::isfinite(v[i])) {
          throw DataError(path + ": coefficient " + names[i] + " of the N-bar law is " +
                          std::to_string(v[i]) + "; expected a positive number");
        }
        // Exponents are fractions in practice (Chinchilla: 0.34, 0.28); beyond 10 every
        // prediction is E to double precision, or overflows.
        if (i >= 3 && v[i] > 10) {
          throw DataError(path + ": exponent " + names[i] + " of the N-bar law is " +
                          std::to_string(v[i]) + "; expected at most 10");
        }
      }
      saved.law = chinchilla_law(v[0], v[1], v[2], v[3], v[4]);
      read_evidence(doc, law, &saved.evidence);
      saved.evidence.max_sparsity = saved.max_sparsity;
      return saved;
    }
  } catch (const json::exception& e) {
    throw DataError(path + ": missing or malformed field: " + e.what());
  }
  throw DataError(path +
                  " holds no Chinchilla law with N = N-bar; run `journey fit` with "
                  "--size-variable avg or all");
}

}  // namespace journey
