// The scaling-law fit at full size: the 4500-start Chinchilla Approach 3 fit plus bootstrap
// resamples on the 240 Chinchilla points, as `journey fit` runs them (BENCHMARKS.md,
// "Scaling-law fit"). bench/fit_bench.sh runs it beside the SciPy baseline
// (bench/fit_scipy_baseline.py) and prints the ratio.
//
//   fit_bench [--data svg_extracted_data.csv] [--resamples 1000] [--threads 2]
//   fit_bench --write-table CSV [--rows 54000]
//
// Prints "key value" lines (points, starts, grid_s, grid_cpu_s, resamples, bootstrap_s,
// bootstrap_cpu_s, total_s) and the coefficients with standard errors and 95% percentile
// intervals. With --write-table it only writes a large synthetic results table for
// `journey fit` (bench/fit_bench_large.sh): a sweep of 30 dense sizes (1e7 to 1e10) x 6 final
// sparsities (0 to 0.9, geometric 25/50/25) x 30 durations (2 to 200 tokens per parameter),
// repeated with new noise (seeds) up to ROWS rows, the loss from L = 1.8 + 400 / N-bar^0.34 +
// 2000 / D^0.37 times exp(0.01 x a standard normal).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fit/bootstrap.h"
#include "fit/huber_fit.h"
#include "schedules/phase_solver.h"

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

// A normal deviate from two uniform draws (Box-Muller), the same with every library.
double normal(std::mt19937_64& rng) {
  const double u1 = (static_cast<double>(rng() >> 11) + 0.5) / 9007199254740992.0;
  const double u2 = (static_cast<double>(rng() >> 11) + 0.5) / 9007199254740992.0;
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

// The synthetic table of --write-table (see the top of this file).
void write_table(const std::string& path, long rows) {
  std::ofstream out(path);
  if (!out) {
    std::fprintf(stderr, "fit_bench: cannot write %s\n", path.c_str());
    std::exit(1);
  }
  out.precision(17);
  out << "id,status,n_avg,n_final,n_initial,tokens,sparsity,size,loss\n";
  std::mt19937_64 rng(0);
  long written = 0;
  while (written < rows) {  // Each pass over the grid is another seed: new noise.
    for (int i = 0; i < 30 && written < rows; ++i) {
      const double p = 1e7 * std::pow(1000.0, i / 29.0);
      for (double s : {0.0, 0.2, 0.4, 0.6, 0.8, 0.9}) {
        const double density =
            s == 0 ? 1 : solve_compute_phases(ScheduleKind::kGeometric, s, 0.25, 0.75).mean_density;
        for (int j = 0; j < 30 && written < rows; ++j) {
          const double n_avg = p * density, tokens = 2 * std::pow(100.0, j / 29.0) * p;
          const double loss = (1.8 + 400 / std::pow(n_avg, 0.34) + 2000 / std::pow(tokens, 0.37)) *
                              std::exp(0.01 * normal(rng));
          char size[32];
          std::snprintf(size, sizeof size, "%g", p);
          out << "r" << written++ << ",done," << n_avg << ',' << (1 - s) * p << ',' << p << ','
              << tokens << ',' << s << ',' << size << ',' << loss << '\n';
        }
      }
    }
  }
  if (!out) {
    std::fprintf(stderr, "fit_bench: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string data =
      std::string(JOURNEY_SOURCE_DIR) + "/tests/data/chinchilla/svg_extracted_data.csv";
  BootstrapOptions boot;
  FitOptions fit;
  std::string table;
  long rows = 54000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--data") {
      data = argv[i + 1];
    } else if (flag == "--write-table") {
      table = argv[i + 1];
    } else if (flag == "--rows") {
      rows = std::atol(argv[i + 1]);
    } else if (flag == "--resamples") {
      boot.resamples = std::atoi(argv[i + 1]);
    } else if (flag == "--threads") {
      fit.threads = boot.threads = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr,
                   "usage: fit_bench [--data CSV] [--resamples N] [--threads T]\n"
                   "       fit_bench --write-table CSV [--rows N]\n");
      return 2;
    }
  }
  if (!table.empty()) {
    write_table(table, rows);
    return 0;
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
