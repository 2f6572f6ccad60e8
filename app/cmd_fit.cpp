// `journey fit`: fit the scaling laws to a results table, print coefficients with bootstrap
// intervals and the validation table, and write fit.json and fit.csv (fit/fit_file.h).
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/command.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "fit/fit_file.h"
#include "fit/fit_report.h"
#include "fit/lr_selection.h"
#include "fit/results_csv.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace journey {
namespace {

std::string cell(const CoefficientInterval& c) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.4g (%.3g) [%.4g, %.4g]", c.estimate, c.se, c.ci_low, c.ci_high);
  return buf;
}

std::string error_cells(const PredictionError& e) {
  char buf[64];
  if (e.points == 0) {
    std::snprintf(buf, sizeof buf, "%8s %8s %5s", "-", "-", "-");
  } else {
    std::snprintf(buf, sizeof buf, "%8.4f %8.4f %5d", e.mae, e.max, e.groups);
  }
  return buf;
}

void print_report(const FitReport& r) {
  std::printf("%d runs from %s (%d skipped: status not done)\n", r.runs, r.source.c_str(),
              r.skipped);
  std::printf(
      "objective: Huber (delta %g) of log-loss residuals, summed; L-BFGS from the 4500-start "
      "grid\nintervals: estimate (standard error) [95%% percentile interval], %d bootstrap "
      "resamples over runs, seed %llu\n\n",
      r.fit.huber_delta, r.bootstrap.resamples, static_cast<unsigned long long>(r.bootstrap.seed));

  // Chinchilla laws side by side, then the sparse law.
  std::vector<const LawReport*> chinchilla;
  const LawReport* sparse = nullptr;
  for (const LawReport& law : r.laws) {
    if (law.form == LawForm::kChinchilla)
      chinchilla.push_back(&law);
    else
      sparse = &law;
  }
  std::printf("L = E + A / N^alpha + B / D^beta\n%-12s", "coefficient");
  for (const LawReport* law : chinchilla) {
    std::printf("  %-36s", (std::string("N = ") + size_variable_name(law->size_variable)).c_str());
  }
  std::printf("\n");
  for (size_t c = 0; c < coefficient_names(LawForm::kChinchilla).size(); ++c) {
    std::printf("%-12s", coefficient_names(LawForm::kChinchilla)[c].c_str());
    for (const LawReport* law : chinchilla) {
      std::printf("  %-36s", cell(law->bootstrap.coefficients[c]).c_str());
    }
    std::printf("\n");
  }
  if (sparse != nullptr) {
    std::printf(
        "\nL = (a_S (1 - S)^b_S + c_S) (1 / N_final)^b_N + (a_D / D)^b_D + c "
        "(Frantar et al. 2023)\n");
    for (const CoefficientInterval& c : sparse->bootstrap.coefficients) {
      std::printf("%-12s  %s\n", c.name.c_str(), cell(c).c_str());
    }
  }

  std::printf(
      "\nvalidation: absolute error of predicted loss (not log-loss); held-out errors "
      "refit without each group\n");
  std::printf("%-22s %-23s %-23s %-23s\n", "", "in-sample", "leave-one-size-out",
              "leave-one-sparsity-out");
  std::printf("%-22s", "law");
  for (int k = 0; k < 3; ++k) std::printf(" %8s %8s %5s", "MAE", "max", "folds");
  std::printf("\n");
  for (const LawReport& law : r.laws) {
    std::printf("%-22s %s %s %s\n", law.label().c_str(),
                error_cells(law.validation.in_sample).c_str(),
                error_cells(law.validation.leave_one_size_out).c_str(),
                error_cells(law.validation.leave_one_sparsity_out).c_str());
  }
  const LawReport& best = r.laws[r.best];
  const double held_out = best.validation.held_out_mae();
  if (std::isnan(held_out)) {
    std::printf("best size variable: %s (in-sample MAE %.4f)\n",
                size_variable_name(best.size_variable), best.validation.in_sample.mae);
  } else {
    std::printf("best size variable: %s (held-out MAE %.4f)\n",
                size_variable_name(best.size_variable), held_out);
  }
  for (const std::string& note : r.notes) std::printf("note: %s\n", note.c_str());
}

}  // namespace

int command_fit(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("size-variable", po::value<std::string>()->default_value("all"),
                      "N of the Chinchilla law: avg (N-bar), final, initial or all")(
      "out", po::value<std::string>(),
      "directory for fit.json and fit.csv (default: the results directory, or the CSV's)")(
      "bootstrap", po::value<int>()->default_value(1000), "bootstrap resamples (at least 20)")(
      "seed", po::value<uint64_t>()->default_value(0), "bootstrap seed")(
      "threads", po::value<int>()->default_value(2), "threads for starts and resamples")(
      "select", po::value<std::string>(),
      "best-lr: per size, keep only the runs of the rate whose dense runs have the lowest loss "
      "(fit/lr_selection.h)");
  const ParsedFlags parsed = parse_flags(
      args, flags, {"results..."},
      {"journey fit RESULTS... [--size-variable avg|final|initial|all] [--out DIR] [--bootstrap N] "
       "[--seed S] [--threads T] [--select best-lr]",
       "Fits L = E + A/N^alpha + B/D^beta with N = N-bar, N_final or N_initial, and the sparse "
       "law of\nFrantar et al., to RESULTS (a CSV, or a directory holding results.csv; "
       "docs/results-format.md),\nprints coefficients with bootstrap intervals and a validation "
       "table, and writes fit.json and\nfit.csv (docs/fit.md). Several RESULTS are one data set "
       "(each run in one of them; --out is\nthen required), e.g. the sweeps of an lr scan with "
       "--select best-lr."});
  if (parsed.help) return exit_code::kOk;
  const po::variables_map& vm = parsed.flags;
  if (!vm.count("results")) throw UsageError("missing RESULTS (a results CSV or directory)");
  FitReportOptions options;
  options.size_variables = parse_size_variables(vm["size-variable"].as<std::string>());
  options.bootstrap.resamples = vm["bootstrap"].as<int>();
  options.bootstrap.seed = vm["seed"].as<uint64_t>();
  const int threads = vm["threads"].as<int>();
  if (options.bootstrap.resamples < 20) {
    throw UsageError("--bootstrap " + std::to_string(options.bootstrap.resamples) +
                     ": expected at least 20 resamples (default 1000)");
  }
  if (threads < 1) throw UsageError("--threads must be at least 1");
  options.fit.threads = threads;
  options.bootstrap.threads = threads;

  const std::vector<std::string> results = vm["results"].as<std::vector<std::string>>();
  if (results.size() > 1 && !vm.count("out")) {
    throw UsageError(
        "--out DIR is required with several RESULTS: fit.json belongs to none of "
        "them alone");
  }
  ResultsTable table = read_results_csv(results);
  std::vector<std::string> selection_notes;
  if (vm.count("select")) {
    if (vm["select"].as<std::string>() != "best-lr") {
      throw UsageError("--select " + vm["select"].as<std::string>() + ": expected best-lr");
    }
    const LrSelection selection = select_best_lr(table.runs);
    selection_notes = describe(selection);
    for (const std::string& line : selection_notes) std::printf("%s\n", line.c_str());
    std::printf("\n");
    table.runs = selection.runs;
    if (static_cast<int>(table.runs.size()) < kMinRuns) {
      throw DataError("--select best-lr leaves " + std::to_string(table.runs.size()) +
                      " runs; a fit needs at least " + std::to_string(kMinRuns));
    }
  }
  fs::path out_dir =
      vm.count("out") ? fs::path(vm["out"].as<std::string>()) : fs::path(table.path).parent_path();
  if (out_dir.empty()) out_dir = ".";
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec)
    throw DataError("cannot create output directory " + out_dir.string() + ": " + ec.message());

  FitReport report = make_fit_report(table, options);
  report.notes.insert(report.notes.begin(), selection_notes.begin(), selection_notes.end());
  print_report(report);
  write_fit_json(report, (out_dir / "fit.json").string());
  write_fit_csv(report, (out_dir / "fit.csv").string());
  std::printf("wrote %s and %s\n", (out_dir / "fit.json").c_str(), (out_dir / "fit.csv").c_str());
  return exit_code::kOk;
}

}  // namespace journey
