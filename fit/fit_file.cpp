#include "fit/fit_file.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/number_text.h"
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
  out << "form,size_variable,coefficient,estimate,se,ci95_low,ci95_high\n";
  for (const LawReport& law : report.laws) {
    for (const CoefficientInterval& c : law.bootstrap.coefficients) {
      out << law_form_name(law.form) << ',' << size_variable_name(law.size_variable) << ','
          << c.name;
      for (double x : {c.estimate, c.se, c.ci_low, c.ci_high}) out << ',' << shortest_decimal(x);
      out << '\n';
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

std::string law_label(const std::string& name) {
  if (name == "avg") return "N-bar law";
  if (name == "final") return "N_final law";
  if (name == "initial") return "N_initial law";
  return name + " law";
}

namespace {

// avg, final, initial or sparse.
std::string law_name_of(const json& law) {
  return law.at("form") == "sparse" ? "sparse" : law.at("size_variable").get<std::string>();
}

double mae_or_nan(const json& error) {
  const json& mae = error.at("mae");
  return mae.is_null() ? std::numeric_limits<double>::quiet_NaN() : mae.get<double>();
}

// Held-out MAE of both kinds pooled, as Validation::held_out_mae() (fit/validation.h).
double held_out_mae(const json& validation) {
  double sum = 0;
  int points = 0;
  for (const char* kind : {"leave_one_size_out", "leave_one_sparsity_out"}) {
    const json& e = validation.at(kind);
    const int n = e.at("points").get<int>();
    if (n > 0) {
      sum += e.at("mae").get<double>() * n;
      points += n;
    }
  }
  return points > 0 ? sum / points : std::numeric_limits<double>::quiet_NaN();
}

// The law from its coefficients, each checked: positive and finite (the sparse law's b_S
// only finite), exponents at most 10 (Chinchilla: 0.34, 0.28; beyond 10 every prediction is
// E to double precision, or overflows).
Law read_law(const std::string& path, const json& law, const std::string& name) {
  const LawForm form = name == "sparse" ? LawForm::kSparse : LawForm::kChinchilla;
  const json& c = law.at("coefficients");
  const std::vector<std::string>& names = coefficient_names(form);
  std::vector<double> v(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    v[i] = c.at(names[i]).at("estimate").get<double>();
    const bool signed_ok = form == LawForm::kSparse && names[i] == "b_S";
    if (!std::isfinite(v[i]) || (!signed_ok && !(v[i] > 0))) {
      throw DataError(path + ": coefficient " + names[i] + " of the " + law_label(name) + " is " +
                      std::to_string(v[i]) + "; expected a positive number");
    }
    const bool exponent = names[i] == "alpha" || names[i] == "beta" || names[i] == "b_N" ||
                          names[i] == "b_D" || names[i] == "b_S";
    if (exponent && std::fabs(v[i]) > 10) {
      throw DataError(path + ": exponent " + names[i] + " of the " + law_label(name) + " is " +
                      std::to_string(v[i]) + "; expected at most 10");
    }
  }
  if (form == LawForm::kChinchilla) return chinchilla_law(v[0], v[1], v[2], v[3], v[4]);
  // x = (a_s, c_s, b, e, b_N, b_D, b_S) from a_S, b_S, c_S, b_N, a_D, b_D, c (fit/law.h).
  return Law{
      LawForm::kSparse,
      {std::log(v[0]), std::log(v[2]), v[5] * std::log(v[4]), std::log(v[6]), v[3], v[5], v[1]}};
}

}  // namespace

SavedFit read_fit_json(const std::string& path) {
  return read_fit_json(path, "avg");
}

SavedFit read_fit_json(const std::string& path, const std::string& requested) {
  const json doc = read_fit_document(path);
  SavedFit saved;
  try {
    saved.source = doc.value("source", "");
    saved.max_sparsity = doc.at("data_range").at("sparsity").at(1).get<double>();
    if (!(saved.max_sparsity >= 0 && saved.max_sparsity < 1)) {
      throw DataError(path + ": data_range.sparsity[1] is " + std::to_string(saved.max_sparsity) +
                      "; expected a sparsity in [0, 1)");
    }
    if (doc.contains("best_size_variable")) {
      saved.best = doc.at("best_size_variable").get<std::string>();
    }
    const json* chosen = nullptr;
    std::string names;
    for (const json& law : doc.at("laws")) {
      const std::string name = law_name_of(law);
      const json& validation = law.at("validation");
      saved.laws.push_back(
          {name, held_out_mae(validation), mae_or_nan(validation.at("in_sample"))});
      names += (names.empty() ? "" : ", ") + name;
      if (chosen == nullptr && name == (requested.empty() ? saved.best : requested)) {
        chosen = &law;
      }
    }
    if (chosen == nullptr) {
      if (requested == "avg" || (requested.empty() && saved.best == "avg")) {
        throw DataError(path +
                        " holds no Chinchilla law with N = N-bar; run `journey fit` with "
                        "--size-variable avg or all");
      }
      throw UsageError("--law " + (requested.empty() ? saved.best : requested) + ": " + path +
                       " holds no such law; it holds: " + names +
                       " (avg, final, initial: the Chinchilla law with N = N-bar, N_final, "
                       "N_initial; sparse: Frantar et al.)");
    }
    const json& law = *chosen;
    saved.law_name = law_name_of(law);
    saved.law = read_law(path, law, saved.law_name);
    saved.size_variable = saved.law_name == "initial" ? SizeVariable::kInitial
                          : saved.law_name == "avg"   ? SizeVariable::kAverage
                                                      : SizeVariable::kFinal;
    if (law.contains("bootstrap_draws")) {
      saved.has_draws = true;
      saved.draws = law.at("bootstrap_draws").get<std::vector<std::vector<double>>>();
    }
    read_evidence(doc, law, &saved.evidence);
    saved.evidence.max_sparsity = saved.max_sparsity;
    saved.evidence.size_variable = saved.size_variable;
    saved.evidence.law_name = law_label(saved.law_name);
    const json& ranges = doc.at("data_range");
    const char* range_key = saved.size_variable == SizeVariable::kInitial ? "n_initial"
                            : saved.size_variable == SizeVariable::kFinal ? "n_final"
                                                                          : "n_avg";
    if (ranges.contains(range_key)) saved.evidence.size = read_range(ranges.at(range_key));
    return saved;
  } catch (const json::exception& e) {
    throw DataError(path + ": missing or malformed field: " + e.what());
  }
}

}  // namespace journey
