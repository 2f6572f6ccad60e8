// `journey report`: the HTML report of a sweep directory, the same as text (report.txt), a
// PNG of each figure, and a plain-text summary on stdout (report/report.h, docs/report.md).
#include <boost/program_options.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/command.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "report/report.h"

namespace po = boost::program_options;

namespace journey {

int command_report(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("out", po::value<std::string>(),
                      "the HTML file (default DIR/report.html; the text beside it, .txt)")(
      "png-dir", po::value<std::string>(), "directory for the figures' PNGs (default DIR/figures)")(
      "bootstrap", po::value<int>()->default_value(1000),
      "bootstrap resamples, when the fit is computed here (at least 20)")(
      "seed", po::value<uint64_t>()->default_value(0), "bootstrap seed, likewise")(
      "threads", po::value<int>()->default_value(2), "threads for the fit, likewise")(
      "select", po::value<std::string>(),
      "best-lr: fit, per size, only the runs of the rate whose dense runs have the lowest loss "
      "(as `journey fit --select best-lr`)");
  const ParsedFlags parsed = parse_flags(
      args, flags, {"dir..."},
      {"journey report RESULTS_DIR... [--out FILE.html] [--png-dir DIR] [--select best-lr]",
       "Writes one self-contained HTML page about a sweep directory (figures drawn with "
       "gnuplot and\ninlined as SVG), the same content as text (report.txt beside the page), a "
       "PNG of each\nfigure, and a plain-text summary to stdout. When RESULTS_DIR has no "
       "fit.json, or one older\nthan results.csv, the fit is computed first and fit.json and "
       "fit.csv are written, as\n`journey fit` would (docs/report.md). Several RESULTS_DIRs are "
       "one data set: --out is then\nrequired and the fit is kept beside the page. A "
       "RESULTS_DIR with results.csv but no\nledger.json (published or merged results) gives "
       "the figures of final losses, without curves."});
  if (parsed.help) return exit_code::kOk;
  const po::variables_map& vm = parsed.flags;
  if (!vm.count("dir"))
    throw UsageError("missing RESULTS_DIR (a sweep directory, or one holding results.csv)");
  ReportOptions options;
  options.dirs = vm["dir"].as<std::vector<std::string>>();
  if (options.dirs.size() > 1 && !vm.count("out")) {
    throw UsageError(
        "--out FILE.html is required with several RESULTS_DIRs: the report (and its fit) "
        "belongs to none of them alone");
  }
  if (vm.count("select")) {
    if (vm["select"].as<std::string>() != "best-lr") {
      throw UsageError("--select " + vm["select"].as<std::string>() + ": expected best-lr");
    }
    options.select_best_lr = true;
  }
  if (vm.count("out")) options.html_path = vm["out"].as<std::string>();
  if (vm.count("png-dir")) options.png_dir = vm["png-dir"].as<std::string>();
  options.fit.bootstrap.resamples = vm["bootstrap"].as<int>();
  options.fit.bootstrap.seed = vm["seed"].as<uint64_t>();
  const int threads = vm["threads"].as<int>();
  if (options.fit.bootstrap.resamples < 20) {
    throw UsageError("--bootstrap " + std::to_string(options.fit.bootstrap.resamples) +
                     ": expected at least 20 resamples (default 1000)");
  }
  if (threads < 1) throw UsageError("--threads must be at least 1");
  options.fit.fit.threads = threads;
  options.fit.bootstrap.threads = threads;

  const ReportResult result = write_report(options);
  std::fputs(result.summary.c_str(), stdout);
  return exit_code::kOk;
}

}  // namespace journey
