// `journey plan`: from a fit.json, the dense size, sparsity, tokens and schedule with the
// lowest predicted loss for a compute budget, and the best dense run beside it
// (fit/planner.h).
#include <boost/program_options.hpp>
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

}  // namespace

int command_plan(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("fit", po::value<std::string>(),
                      "fit.json written by `journey fit`, or the directory holding it")(
      "flops", po::value<double>(), "compute budget C in FLOP (C = 6 N-bar D)")(
      "max-final-params", po::value<double>(), "largest allowed final model N_final = (1 - S) P")(
      "max-sparsity", po::value<double>(),
      "largest sparsity considered (default: the largest among the fitted runs)");
  const ParsedFlags parsed = parse_flags(
      args, flags, {},
      {"journey plan --fit FIT_FILE --flops C [--max-final-params P] [--max-sparsity S]",
       "From the law fitted with N = N-bar, finds the dense size P, sparsity S, tokens D and "
       "pruning\nschedule (phases 25/50/25 of compute) with the lowest predicted loss for the "
       "budget, and the\nbest dense run for comparison (docs/fit.md)."});
  if (parsed.help) return exit_code::kOk;
  const po::variables_map& vm = parsed.flags;
  if (!vm.count("fit")) throw UsageError("missing --fit FIT_FILE (fit.json from `journey fit`)");
  if (!vm.count("flops")) throw UsageError("missing --flops C (the compute budget in FLOP)");
  std::string path = vm["fit"].as<std::string>();
  if (std::filesystem::is_directory(path))
    path = (std::filesystem::path(path) / "fit.json").string();
  const SavedFit saved = read_fit_json(path);

  PlanRequest request;
  request.flops = vm["flops"].as<double>();
  if (vm.count("max-final-params")) request.max_final_params = vm["max-final-params"].as<double>();
  request.max_sparsity =
      vm.count("max-sparsity") ? vm["max-sparsity"].as<double>() : saved.max_sparsity;
  const Plan plan = plan_compute(saved.law, request);

  const std::vector<double> c = saved.law.coefficients();
  std::printf("law (%s, N = N-bar): L = %.4g + %.4g / N-bar^%.4g + %.4g / D^%.4g\n", path.c_str(),
              c[2], c[0], c[3], c[1], c[4]);
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
  const std::vector<std::string> warnings = plan_warnings(plan, request, saved.evidence);
  for (const std::string& warning : warnings) std::printf("warning: %s\n", warning.c_str());
  if (warnings.empty()) {
    std::printf("within the fitted data: budget, N-bar and D no more than %.0fx outside it\n",
                kTrustedExtrapolation);
  }
  return exit_code::kOk;
}

}  // namespace journey
