// `journey plan`: from a fit.json, the dense size, sparsity, tokens and schedule with the
// lowest predicted loss for a compute budget, and the best dense run beside it
// (fit/planner.h).
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>

#include "app/cli.h"
#include "app/command.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "fit/fit_file.h"
#include "fit/planner.h"

namespace po = boost::program_options;

namespace journey {
namespace {

void print_candidate(const char* label, const PlanCandidate& p) {
  std::printf("%-6s %14.4g %9.3f %-10s %12.4g %12.4g %12.4g %9.5f%s\n", label, p.dense_params,
              p.sparsity, schedule_name(p.schedule), p.mean_params, p.final_params, p.tokens,
              p.loss, p.capped ? "  (capped)" : "");
}

// "N-bar", "N_final" or "N_initial": the law's N in its formula.
const char* size_symbol(SizeVariable v) {
  return v == SizeVariable::kAverage ? "N-bar"
         : v == SizeVariable::kFinal ? "N_final"
                                     : "N_initial";
}

// Which law the plan uses and why: the one named by --law, or the one `journey fit` validated
// best, with every law's validation error beside it.
void print_law_choice(const SavedFit& saved, bool by_flag, const std::string& path) {
  std::string errors;
  for (const SavedFit::LawChoice& law : saved.laws) {
    char text[96];
    if (std::isnan(law.held_out_mae)) {
      std::snprintf(text, sizeof text, "%s: in-sample MAE %.4g", law.name.c_str(),
                    law.in_sample_mae);
    } else {
      std::snprintf(text, sizeof text, "%s: held-out MAE %.4g", law.name.c_str(), law.held_out_mae);
    }
    errors += (errors.empty() ? "" : ", ") + std::string(text);
  }
  if (by_flag) {
    std::printf("law: the %s (--law %s); `journey fit` validated %s best (%s)\n",
                law_label(saved.law_name).c_str(), saved.law_name.c_str(), saved.best.c_str(),
                errors.c_str());
  } else {
    std::printf(
        "law: the %s, the size variable `journey fit` validated best (%s); --law NAME plans "
        "with another\n",
        law_label(saved.law_name).c_str(), errors.c_str());
  }
  const std::vector<double> c = saved.law.coefficients();
  if (saved.law.form == LawForm::kChinchilla) {
    const char* n = size_symbol(saved.size_variable);
    std::printf("law (%s, N = %s): L = %.4g + %.4g / %s^%.4g + %.4g / D^%.4g\n", path.c_str(), n,
                c[2], c[0], n, c[3], c[1], c[4]);
  } else {
    std::printf(
        "law (%s, Frantar et al.): L = (%.4g (1 - S)^%.4g + %.4g) / N_final^%.4g + "
        "(%.4g / D)^%.4g + %.4g\n",
        path.c_str(), c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
  }
}

// The predicted losses' bootstrap intervals, or why there are none.
void print_intervals(const Plan& plan, const SavedFit& saved, const std::string& path) {
  if (!saved.has_draws) {
    std::printf(
        "no bootstrap interval: %s stores no bootstrap draws (written before `journey fit` "
        "stored them); fit again to get intervals\n",
        path.c_str());
    return;
  }
  const PlanIntervals in = plan_intervals(plan, saved.law.form, saved.size_variable, saved.draws);
  if (in.draws == 0) {
    std::printf("no bootstrap interval: no bootstrap draw of the %s in %s predicts a finite loss\n",
                law_label(saved.law_name).c_str(), path.c_str());
    return;
  }
  std::printf(
      "95%% bootstrap intervals (%d draws of the law; the planned runs held fixed): best "
      "[%.5f, %.5f], dense [%.5f, %.5f]\n",
      in.draws, in.best.low, in.best.high, in.dense.low, in.dense.high);
  if (plan.best.sparsity == 0) {
    std::printf("difference: none, the best run is the dense run\n");
  } else if (in.difference.excludes_zero()) {
    std::printf("difference dense - best %.5f [%.5f, %.5f]: distinguishable, %s\n",
                plan.dense.loss - plan.best.loss, in.difference.low, in.difference.high,
                in.difference.low > 0 ? "the sparse run is predicted better"
                                      : "the dense run is predicted better");
  } else {
    std::printf(
        "difference dense - best %.5f [%.5f, %.5f]: not distinguishable (the interval holds "
        "0)\n",
        plan.dense.loss - plan.best.loss, in.difference.low, in.difference.high);
  }
}

}  // namespace

int command_plan(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("fit", po::value<std::string>(),
                      "fit.json written by `journey fit`, or the directory holding it")(
      "flops", po::value<double>(), "compute budget C in FLOP (C = 6 N-bar D)")(
      "max-final-params", po::value<double>(), "largest allowed final model N_final = (1 - S) P")(
      "max-sparsity", po::value<double>(),
      "largest sparsity considered (default: the largest among the fitted runs; above it only "
      "with --extrapolate)")(
      "law", po::value<std::string>(),
      "law to plan with: avg, final, initial (the Chinchilla law with N = N-bar, N_final, "
      "N_initial) or sparse (Frantar et al.); default: the size variable `journey fit` "
      "validated best")("extrapolate",
                        "allow --max-sparsity above the largest fitted sparsity (with a warning)");
  const ParsedFlags parsed = parse_flags(
      args, flags, {},
      {"journey plan --fit FIT_FILE --flops C [--max-final-params P] [--max-sparsity S] "
       "[--law NAME] [--extrapolate]",
       "From the fitted law (by default the best validated), finds the dense size P, sparsity S, "
       "tokens D and "
       "pruning\nschedule (phases 25/50/25 of compute) with the lowest predicted loss for the "
       "budget, and the\nbest dense run for comparison (docs/fit.md)."});
  if (parsed.help) return exit_code::kOk;
  const po::variables_map& vm = parsed.flags;
  if (!vm.count("fit")) throw UsageError("missing --fit FIT_FILE (fit.json from `journey fit`)");
  if (!vm.count("flops")) throw UsageError("missing --flops C (the compute budget in FLOP)");
  std::string path = vm["fit"].as<std::string>();
  if (std::filesystem::is_directory(path))
    path = (std::filesystem::path(path) / "fit.json").string();
  const bool by_flag = vm.count("law") > 0;
  const SavedFit saved = read_fit_json(path, by_flag ? vm["law"].as<std::string>() : "");

  PlanRequest request;
  request.flops = vm["flops"].as<double>();
  if (vm.count("max-final-params")) request.max_final_params = vm["max-final-params"].as<double>();
  request.max_sparsity =
      vm.count("max-sparsity") ? vm["max-sparsity"].as<double>() : saved.max_sparsity;
  check_sparsity_range(request, saved.evidence, vm.count("extrapolate") > 0);
  const Plan plan = plan_compute(saved.law, saved.size_variable, request);

  print_law_choice(saved, by_flag, path);
  std::printf(
      "budget C = %.4g FLOP = 6 N-bar D; sparsities 0 to %.3g, geometric and cubic "
      "schedules, phases 25/50/25 of compute",
      request.flops, request.max_sparsity);
  if (std::isfinite(request.max_final_params)) {
    std::printf("; N_final <= %.4g", request.max_final_params);
  }
  std::printf("\n\n%-6s %14s %9s %-10s %12s %12s %12s %9s\n", "", "dense size P", "sparsity",
              "schedule", "N-bar", "N_final", "tokens D", "loss");
  print_candidate("best", plan.best);
  print_candidate("dense", plan.dense);
  std::printf(
      "\npredicted loss: best %.5f, dense %.5f (difference %.5f); final model %.3gx "
      "the dense one\n",
      plan.best.loss, plan.dense.loss, plan.dense.loss - plan.best.loss,
      plan.best.final_params / plan.dense.final_params);
  print_intervals(plan, saved, path);
  const std::vector<std::string> warnings = plan_warnings(plan, request, saved.evidence);
  for (const std::string& warning : warnings) std::printf("warning: %s\n", warning.c_str());
  if (warnings.empty()) {
    std::printf(
        "within the fitted data: budget, %s and D no more than %.0fx outside it\n",
        saved.size_variable == SizeVariable::kInitial ? "P" : size_symbol(saved.size_variable),
        kTrustedExtrapolation);
  }
  return exit_code::kOk;
}

}  // namespace journey
