// The scaling-law fit at full size: the 4500-start Chinchilla Approach 3 fit plus bootstrap
// resamples on the 240 Chinchilla points, as `journey fit` runs them (BENCHMARKS.md,
// "Scaling-law fit"). bench/fit_bench.sh runs it beside the SciPy baseline
// (bench/fit_scipy_baseline.py) and prints the ratio.
//
//   fit_bench [--data svg_extracted_data.csv] [--resamples 1000] [--threads 2]
//
// Prints "key value" lines (points, starts, grid_s, grid_cpu_s, resamples, bootstrap_s,
// bootstrap_cpu_s, total_s) and the coefficients with standard errors and 95% percentile
// intervals.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fit/bootstrap.h"
#include "fit/huber_fit.h"

namespace {

using namespace journey;

// Epoch AI's digitised points (Model Size, Training FLOP, loss) less the 5 with the highest
// loss, as the replication did; D = C / (6 N).
std::vector<LawPoint> load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "fit_bench: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream names(line);
  for (std::string s; std::getline(names, s, ',');) header.push_back(s);
  auto column = [&](const std::string& name) {
    return std::find(header.begin(), header.end(), name) - header.begin();
  };
  const size_t n_col = column("Model Size"), c_col = column("Training FLOP"),
               l_col = column("loss");
  struct Row {
    double n, tokens, loss;
  };
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string s; std::getline(fields, s, ',');) f.push_back(s);
    const double n = std::stod(f.at(n_col));
    rows.push_back({n, std::stod(f.at(c_col)) / (6 * n), std::stod(f.at(l_col))});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.loss < b.loss; });
  rows.resize(rows.size() - 5);
  std::vector<LawPoint> points;
  for (const Row& r : rows) points.push_back(make_law_point(r.n, r.tokens, 0, r.loss));
  return points;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data =
      std::string(JOURNEY_SOURCE_DIR) + "/tests/data/chinchilla/svg_extracted_data.csv";
  BootstrapOptions boot;
  FitOptions fit;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--data") {
      data = argv[i + 1];
    } else if (flag == "--resamples") {
      boot.resamples = std::atoi(argv[i + 1]);
    } else if (flag == "--threads") {
      fit.threads = boot.threads = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: fit_bench [--data CSV] [--resamples N] [--threads T]\n");
      return 2;
    }
  }
  const std::vector<LawPoint> points = load(data);
  const auto grid = chinchilla_start_grid();
  // Wall time, and CPU time of the process (all threads; glibc's clock()), which a busy
  // machine disturbs less.
  using Clock = std::chrono::steady_clock;
  const Clock::time_point t0 = Clock::now();
  const std::clock_t c0 = std::clock();
  const FitResult full = fit_law(LawForm::kChinchilla, points, grid, fit);
  const Clock::time_point t1 = Clock::now();
  const std::clock_t c1 = std::clock();
  const BootstrapResult result = bootstrap_fit(points, full, fit, boot);
  const Clock::time_point t2 = Clock::now();
  const std::clock_t c2 = std::clock();
  auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  auto cpu = [](std::clock_t d) { return static_cast<double>(d) / CLOCKS_PER_SEC; };
  std::printf(
      "points %zu\nstarts %zu\ngrid_s %.3f\ngrid_cpu_s %.3f\nresamples %d\nbootstrap_s %.3f\n"
      "bootstrap_cpu_s %.3f\ntotal_s %.3f\n",
      points.size(), grid.size(), seconds(t1 - t0), cpu(c1 - c0), boot.resamples, seconds(t2 - t1),
      cpu(c2 - c1), seconds(t2 - t0));
  for (const CoefficientInterval& c : result.coefficients) {
    std::printf("%s %.6g se %.4g ci95 [%.6g, %.6g]\n", c.name.c_str(), c.estimate, c.se, c.ci_low,
                c.ci_high);
  }
  return 0;
}
