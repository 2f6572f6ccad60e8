// The scaling-law fit, its uncertainty, validation, the results reader, planning, and the
// `journey fit` / `journey plan` commands.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common/error.h"
#include "fit/bootstrap.h"
#include "fit/fit_file.h"
#include "fit/fit_report.h"
#include "fit/huber_fit.h"
#include "fit/law.h"
#include "fit/lr_selection.h"
#include "fit/planner.h"
#include "fit/results_csv.h"
#include "fit/validation.h"
#include "schedules/phase_solver.h"
#include "tests/subprocess.h"

namespace journey {
namespace {

namespace fs = std::filesystem;
using testing::journey_command;
using testing::run_process;

// --- data -------------------------------------------------------------------------------

struct ChinchillaRow {
  double n, tokens, loss;
};

// Epoch AI's 245 digitised points less the 5 with the highest loss; D = C / (6 N).
std::vector<ChinchillaRow> chinchilla_rows() {
  std::ifstream in(std::string(JOURNEY_SOURCE_DIR) +
                   "/tests/data/chinchilla/svg_extracted_data.csv");
  EXPECT_TRUE(in.good());
  std::string line;
  std::getline(in, line);  // x,y,color,Model Size,Training FLOP,hex_color,loss
  std::vector<ChinchillaRow> rows;
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::vector<std::string> f;
    for (std::string s; std::getline(fields, s, ',');) f.push_back(s);
    const double n = std::stod(f[3]), flops = std::stod(f[4]);
    rows.push_back({n, flops / (6 * n), std::stod(f[6])});
  }
  EXPECT_EQ(rows.size(), 245u);
  std::sort(rows.begin(), rows.end(),
            [](const ChinchillaRow& a, const ChinchillaRow& b) { return a.loss < b.loss; });
  rows.resize(rows.size() - 5);
  return rows;
}

std::vector<LawPoint> chinchilla_points() {
  std::vector<LawPoint> points;
  for (const ChinchillaRow& r : chinchilla_rows()) {
    points.push_back(make_law_point(r.n, r.tokens, 0, r.loss));
  }
  return points;
}

// The replication's result on those points (tests/data/chinchilla/README.md).
const double kReference[] = {477.8, 2143, 1.817, 0.3473, 0.3672};

double worst_relative_error(const std::vector<double>& coefficients) {
  double worst = 0;
  for (int i = 0; i < 5; ++i) {
    worst = std::max(worst, std::abs(coefficients[i] / kReference[i] - 1));
  }
  return worst;
}

// A normal deviate from two uniform draws (Box-Muller), the same with every library.
double normal(std::mt19937_64& rng) {
  const double u1 = (static_cast<double>(rng() >> 11) + 0.5) / 9007199254740992.0;
  const double u2 = (static_cast<double>(rng() >> 11) + 0.5) / 9007199254740992.0;
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

// A sweep like the paper's: dense sizes x sparsities (geometric, 25/50/25) x durations,
// with loss from the Chinchilla law in N-bar, times exp(noise_sd * standard normal).
const double kTrue[] = {400, 2000, 1.8, 0.34, 0.37};  // A, B, E, alpha, beta

std::vector<RunRecord> synthetic_runs(double noise_sd, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<RunRecord> runs;
  int line = 2;
  for (double p : {1e7, 3e7, 1e8, 3e8, 1e9}) {
    for (double s : {0.0, 0.4, 0.6, 0.8}) {
      const double density =
          s == 0 ? 1 : solve_compute_phases(ScheduleKind::kGeometric, s, 0.25, 0.75).mean_density;
      for (double tokens_per_param : {5.0, 20.0, 80.0}) {
        RunRecord r;
        r.n_initial = p;
        r.n_avg = p * density;
        r.n_final = (1 - s) * p;
        r.sparsity = s;
        r.tokens = tokens_per_param * p;
        const double clean = kTrue[2] + kTrue[0] / std::pow(r.n_avg, kTrue[3]) +
                             kTrue[1] / std::pow(r.tokens, kTrue[4]);
        r.loss = clean * std::exp(noise_sd * normal(rng));
        char size[32];
        std::snprintf(size, sizeof size, "%g", p);
        r.size = size;
        r.line = line++;
        runs.push_back(r);
      }
    }
  }
  return runs;
}

std::vector<LawPoint> avg_points(const std::vector<RunRecord>& runs) {
  return law_points(runs, LawForm::kChinchilla, SizeVariable::kAverage);
}

void write_csv(const std::string& path, const std::vector<RunRecord>& runs) {
  std::ofstream out(path);
  out.precision(17);
  // Columns out of the documented order, plus extra ones the reader must ignore.
  out << "cell,loss,tokens,status,n_initial,n_final,n_avg,sparsity,size,wall_s\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& r = runs[i];
    out << "c" << i << "," << r.loss << "," << r.tokens << ",done," << r.n_initial << ","
        << r.n_final << "," << r.n_avg << "," << r.sparsity << "," << r.size << ",12.5\n";
  }
}

std::string temp_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("journey-fit-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// --- the fitter -------------------------------------------------------------------------

TEST(FitChinchilla, ReproducesTheReplicationWithin1Percent) {
  const FitResult fit =
      fit_law(LawForm::kChinchilla, chinchilla_points(), chinchilla_start_grid(), FitOptions{});
  const std::vector<double> c = fit.law.coefficients();
  EXPECT_LT(worst_relative_error(c), 0.01)
      << "A " << c[0] << " B " << c[1] << " E " << c[2] << " alpha " << c[3] << " beta " << c[4];
}

TEST(FitChinchilla, StartGridIsTheReplications) {
  const auto grid = chinchilla_start_grid();
  ASSERT_EQ(grid.size(), 4500u);
  std::vector<double> lo(5, 1e9), hi(5, -1e9);
  for (const auto& x : grid) {
    for (int i = 0; i < 5; ++i) {
      lo[i] = std::min(lo[i], x[i]);
      hi[i] = std::max(hi[i], x[i]);
    }
  }
  EXPECT_EQ(lo, (std::vector<double>{0, 0, -1, 0, 0}));
  EXPECT_EQ(hi, (std::vector<double>{25, 25, 1, 2, 2}));
}

// Epoch AI: with the mean, L-BFGS stops early. Under the replication's stopping rules (the
// grid stage alone), the sum reaches the reference and the mean does not.
TEST(FitChinchilla, MeanReductionStopsEarlyUnderTheReplicationsRules) {
  const std::vector<LawPoint> points = chinchilla_points();
  FitOptions sum;
  sum.polished_optima = 0;
  FitOptions mean = sum;
  mean.reduction = Reduction::kMean;
  const auto grid = chinchilla_start_grid();
  const std::vector<double> by_sum =
      fit_law(LawForm::kChinchilla, points, grid, sum).law.coefficients();
  const std::vector<double> by_mean =
      fit_law(LawForm::kChinchilla, points, grid, mean).law.coefficients();
  EXPECT_LT(worst_relative_error(by_sum), 0.01);
  EXPECT_GT(worst_relative_error(by_mean), 0.05)
      << "A " << by_mean[0] << " B " << by_mean[1] << " E " << by_mean[2];
  // Polishing carries on to the optimum from either: the minimiser itself does not depend on
  // the reduction.
  mean.polished_optima = 1;
  EXPECT_LT(
      worst_relative_error(fit_law(LawForm::kChinchilla, points, grid, mean).law.coefficients()),
      0.01);
}

TEST(FitChinchilla, GradientIsAnalyticallyCorrect) {
  const std::vector<LawPoint> points = chinchilla_points();
  for (LawForm form : {LawForm::kChinchilla, LawForm::kSparse}) {
    std::vector<LawPoint> sparse_points = points;
    for (size_t i = 0; i < sparse_points.size(); ++i) sparse_points[i].log_keep = -0.1 * (i % 5);
    std::vector<double> x = form == LawForm::kChinchilla
                                ? std::vector<double>{6.0, 7.5, 0.6, 0.35, 0.36}
                                : std::vector<double>{5.5, 5.0, 7.5, 0.6, 0.35, 0.36, 0.8};
    std::vector<double> grad(x.size());
    FitOptions options;
    huber_objective(form, sparse_points, x.data(), grad.data(), options);
    for (size_t i = 0; i < x.size(); ++i) {
      const double h = 1e-6;
      std::vector<double> up = x, down = x;
      up[i] += h;
      down[i] -= h;
      const double numeric = (huber_objective(form, sparse_points, up.data(), nullptr, options) -
                              huber_objective(form, sparse_points, down.data(), nullptr, options)) /
                             (2 * h);
      EXPECT_NEAR(grad[i], numeric, 1e-6 + 1e-5 * std::abs(numeric))
          << law_form_name(form) << " parameter " << i;
    }
  }
}

// Far from any optimum one shift for all points underflows some points' terms to 0; the
// objective must then fall back to a per-point shift and stay exact.
TEST(FitChinchilla, ObjectiveStaysExactWhereTheSharedShiftUnderflows) {
  const std::vector<LawPoint> points = chinchilla_points();
  const std::vector<double> x = {6.0, 7.5, 0.6, -300, 0.36};  // alpha = -300
  std::vector<double> grad(5);
  const double f = huber_objective(LawForm::kChinchilla, points, x.data(), grad.data(), {});
  double expected = 0;
  for (const LawPoint& p : points) {
    const double r = log_predict(LawForm::kChinchilla, x.data(), p, nullptr) - p.log_loss;
    expected += 1e-3 * (std::abs(r) - 0.5e-3);  // Every residual is far outside delta.
  }
  EXPECT_TRUE(std::isfinite(f));
  EXPECT_NEAR(f, expected, 1e-12 * expected);
  for (double g : grad) EXPECT_TRUE(std::isfinite(g));
}

// Fits `points` with `options` on one thread and on two, expects the same result from both
// and returns it.
FitResult fit_on_one_and_two_threads(const std::vector<LawPoint>& points,
                                     const std::vector<std::vector<double>>& grid,
                                     FitOptions options) {
  options.threads = 1;
  const FitResult a = fit_law(LawForm::kChinchilla, points, grid, options);
  options.threads = 2;
  const FitResult b = fit_law(LawForm::kChinchilla, points, grid, options);
  EXPECT_EQ(a.law.x, b.law.x);
  EXPECT_EQ(a.best_start, b.best_start);
  return a;
}

TEST(FitChinchilla, ResultDoesNotDependOnThreadCount) {
  fit_on_one_and_two_threads(avg_points(synthetic_runs(0.01, 7)), chinchilla_start_grid(), {});
}

// --- large tables (fit/huber_fit.h, "Large tables") --------------------------------------

// With a sample size below their number, the Chinchilla points are a large table: the grid
// runs on 100 of them and the best optima are fitted again on all 240. That reaches the
// optimum of the full grid on all of them, whatever the thread count.
TEST(FitLargeTable, SampledGridReachesTheFullGridsOptimum) {
  const std::vector<LawPoint> points = chinchilla_points();
  const auto grid = chinchilla_start_grid();
  const FitResult exact = fit_law(LawForm::kChinchilla, points, grid, FitOptions{});
  FitOptions sampled;
  sampled.sample_size = 100;
  const FitResult a = fit_on_one_and_two_threads(points, grid, sampled);
  EXPECT_NEAR(a.objective, exact.objective, 1e-9 * exact.objective);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(a.law.x[i], exact.law.x[i], 1e-6) << "x" << i;
  ASSERT_FALSE(a.optima.empty());
  EXPECT_EQ(a.optima[0], a.law.x);
}

TEST(FitLargeTable, SubsampleIsAFixedDrawWithoutReplacementInTableOrder) {
  std::vector<LawPoint> points(1000);
  for (size_t i = 0; i < points.size(); ++i) points[i].log_loss = static_cast<double>(i);
  const std::vector<LawPoint> a = subsample(points, 100, 3);
  ASSERT_EQ(a.size(), 100u);
  for (size_t i = 1; i < a.size(); ++i) EXPECT_LT(a[i - 1].log_loss, a[i].log_loss);
  auto losses = [](const std::vector<LawPoint>& sample) {
    std::vector<double> out;
    for (const LawPoint& p : sample) out.push_back(p.log_loss);
    return out;
  };
  EXPECT_EQ(losses(a), losses(subsample(points, 100, 3)));
  EXPECT_NE(losses(a), losses(subsample(points, 100, 4)));
  EXPECT_EQ(subsample(points, 1000, 3).size(), 1000u);
  EXPECT_EQ(subsample(points, 0, 3).size(), 1000u);
}

TEST(FitSparseLaw, RecoversFrantarCoefficientsFromCleanData) {
  // L = (a_S (1 - S)^b_S + c_S) N_final^-b_N + (a_D / D)^b_D + c
  const double a_s = 30, b_s = 1.5, c_s = 60, b_n = 0.3, a_d = 5e5, b_d = 0.35, c = 1.9;
  std::vector<LawPoint> points;
  for (double n : {1e7, 3e7, 1e8, 3e8}) {
    for (double s : {0.0, 0.5, 0.75, 0.875}) {
      for (double d : {1e8, 1e9, 1e10}) {
        const double loss =
            (a_s * std::pow(1 - s, b_s) + c_s) * std::pow(n, -b_n) + std::pow(a_d / d, b_d) + c;
        points.push_back(make_law_point(n, d, s, loss));
      }
    }
  }
  const FitResult dense =
      fit_law(LawForm::kChinchilla, points, chinchilla_start_grid(), FitOptions{});
  const FitResult fit = fit_law(LawForm::kSparse, points, sparse_start_grid(dense), FitOptions{});
  const std::vector<double> got = fit.law.coefficients();  // a_S, b_S, c_S, b_N, a_D, b_D, c
  const double want[] = {a_s, b_s, c_s, b_n, a_d, b_d, c};
  for (int i = 0; i < 7; ++i) {
    EXPECT_NEAR(got[i] / want[i], 1, 0.02) << coefficient_names(LawForm::kSparse)[i];
  }
}

// --- bootstrap --------------------------------------------------------------------------

// A resample refit starts from the full-data optima plus a small grid instead of 4500 points;
// on real data it must land where the full grid does.
TEST(FitBootstrap, RefitFindsTheFullGridOptimumOnResamples) {
  const std::vector<LawPoint> points = chinchilla_points();
  const auto grid = chinchilla_start_grid();
  const FitResult full = fit_law(LawForm::kChinchilla, points, grid, FitOptions{});
  const FitOptions refit = refit_options(FitOptions{});
  for (int r = 0; r < 3; ++r) {
    const std::vector<LawPoint> sample = resample_points(points, 0, r);
    const FitResult by_grid = fit_law(LawForm::kChinchilla, sample, grid, FitOptions{});
    const FitResult by_refit = fit_law(LawForm::kChinchilla, sample, refit_starts(full), refit);
    EXPECT_LE(by_refit.objective, by_grid.objective * (1 + 1e-9)) << "resample " << r;
    for (int i = 0; i < 5; ++i) {
      EXPECT_NEAR(by_refit.law.x[i], by_grid.law.x[i], 1e-3) << "resample " << r << " x" << i;
    }
  }
}

// A resample weights each drawn run by its count instead of repeating it: same objective.
TEST(FitBootstrap, WeightedResampleIsTheResampleWithRepeats) {
  const std::vector<LawPoint> points = chinchilla_points();
  std::vector<LawPoint> repeated;
  for (int i : resample_indices(static_cast<int>(points.size()), 5, 2)) {
    repeated.push_back(points[i]);
  }
  const std::vector<LawPoint> weighted = resample_points(points, 5, 2);
  EXPECT_LT(weighted.size(), 0.7 * points.size());
  double total = 0;
  for (const LawPoint& p : weighted) total += p.weight;
  EXPECT_EQ(total, static_cast<double>(points.size()));
  const std::vector<double> x = {6.0, 7.5, 0.6, 0.35, 0.36};
  for (Reduction reduction : {Reduction::kSum, Reduction::kMean}) {
    FitOptions options;
    options.reduction = reduction;
    std::vector<double> g_rep(5), g_w(5);
    const double f_rep =
        huber_objective(LawForm::kChinchilla, repeated, x.data(), g_rep.data(), options);
    const double f_w =
        huber_objective(LawForm::kChinchilla, weighted, x.data(), g_w.data(), options);
    EXPECT_NEAR(f_w, f_rep, 1e-12 * f_rep);
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(g_w[i], g_rep[i], 1e-10 * std::abs(g_rep[i]) + 1e-15);
  }
}

TEST(FitBootstrap, SameSeedSameResultsWithAnyThreadCount) {
  const std::vector<LawPoint> points = avg_points(synthetic_runs(0.01, 3));
  const FitResult full =
      fit_law(LawForm::kChinchilla, points, chinchilla_start_grid(), FitOptions{});
  BootstrapOptions one{200, 42, 1}, two{200, 42, 2}, other_seed{200, 43, 2};
  const BootstrapResult a = bootstrap_fit(points, full, FitOptions{}, one);
  const BootstrapResult b = bootstrap_fit(points, full, FitOptions{}, two);
  const BootstrapResult c = bootstrap_fit(points, full, FitOptions{}, other_seed);
  EXPECT_EQ(a.draws, b.draws);
  for (size_t i = 0; i < a.coefficients.size(); ++i) {
    EXPECT_EQ(a.coefficients[i].se, b.coefficients[i].se);
    EXPECT_EQ(a.coefficients[i].ci_low, b.coefficients[i].ci_low);
    EXPECT_EQ(a.coefficients[i].ci_high, b.coefficients[i].ci_high);
  }
  EXPECT_NE(a.draws, c.draws);
}

TEST(FitBootstrap, ResampleIndicesDependOnSeedAndResampleOnly) {
  EXPECT_EQ(resample_indices(50, 9, 4), resample_indices(50, 9, 4));
  EXPECT_NE(resample_indices(50, 9, 4), resample_indices(50, 9, 5));
  EXPECT_NE(resample_indices(50, 9, 4), resample_indices(50, 10, 4));
  for (int i : resample_indices(50, 9, 4)) {
    EXPECT_GE(i, 0);
    EXPECT_LT(i, 50);
  }
}

// A large table's resample draws m of its n runs: the first m of the n draws.
TEST(FitBootstrap, FewerDrawsAreTheFirstOfTheDraws) {
  const std::vector<int> all = resample_indices(500, 9, 4);
  const std::vector<int> some = resample_indices(500, 9, 4, 60);
  ASSERT_EQ(some.size(), 60u);
  EXPECT_TRUE(std::equal(some.begin(), some.end(), all.begin()));
  const std::vector<LawPoint> points = avg_points(synthetic_runs(0.01, 1));
  double total = 0;
  for (const LawPoint& p : resample_points(points, 9, 4, 25)) total += p.weight;
  EXPECT_EQ(total, 25.0);
}

// The m-out-of-n bootstrap of a large table (fit/bootstrap.h): its standard errors and
// intervals are those of the bootstrap that draws all n runs, at a fraction of the cost.
// 600 runs (10 noisy copies of the synthetic sweep), m = 100, 100 resamples each; Monte Carlo
// noise alone moves a standard error by about 7%.
TEST(FitBootstrap, DrawingFewerRunsGivesTheStandardErrorsOfDrawingAll) {
  std::vector<RunRecord> runs;
  for (uint64_t copy = 0; copy < 10; ++copy) {
    for (const RunRecord& r : synthetic_runs(0.01, 100 + copy)) runs.push_back(r);
  }
  const std::vector<LawPoint> points = avg_points(runs);
  FitOptions all, drawn;
  all.sample_size = 0;
  drawn.sample_size = 100;
  const FitResult full = fit_law(LawForm::kChinchilla, points, chinchilla_start_grid(), drawn);
  const BootstrapOptions boot{100, 0, 2};
  const BootstrapResult a = bootstrap_fit(points, full, all, boot);
  const BootstrapResult b = bootstrap_fit(points, full, drawn, boot);
  for (size_t i = 0; i < a.coefficients.size(); ++i) {
    const CoefficientInterval &x = a.coefficients[i], &y = b.coefficients[i];
    EXPECT_GT(y.se / x.se, 0.75) << x.name << ": " << y.se << " against " << x.se;
    EXPECT_LT(y.se / x.se, 1.33) << x.name << ": " << y.se << " against " << x.se;
    EXPECT_LE(y.ci_low, x.estimate) << x.name;
    EXPECT_GE(y.ci_high, x.estimate) << x.name;
    EXPECT_NEAR(y.ci_high - y.ci_low, x.ci_high - x.ci_low, 0.33 * (x.ci_high - x.ci_low))
        << x.name;
  }
}

TEST(FitBootstrap, IntervalsContainTheTrueCoefficientsOfSyntheticData) {
  const std::vector<LawPoint> points = avg_points(synthetic_runs(0.01, 1));
  const FitResult full =
      fit_law(LawForm::kChinchilla, points, chinchilla_start_grid(), FitOptions{});
  const BootstrapResult boot = bootstrap_fit(points, full, FitOptions{}, BootstrapOptions{});
  ASSERT_EQ(boot.draws.size(), 1000u);
  for (int i = 0; i < 5; ++i) {
    const CoefficientInterval& c = boot.coefficients[i];
    EXPECT_LE(c.ci_low, kTrue[i]) << c.name;
    EXPECT_GE(c.ci_high, kTrue[i]) << c.name;
    EXPECT_LE(c.ci_low, c.estimate) << c.name;
    EXPECT_GE(c.ci_high, c.estimate) << c.name;
    EXPECT_GT(c.se, 0) << c.name;
    // Informative: A, B and E within a factor of 3, the exponents within +-0.1.
    if (i < 3) {
      EXPECT_LT(c.ci_high / c.ci_low, 3) << c.name << " [" << c.ci_low << ", " << c.ci_high << "]";
    } else {
      EXPECT_LT(c.ci_high - c.ci_low, 0.2)
          << c.name << " [" << c.ci_low << ", " << c.ci_high << "]";
    }
  }
}

// --- validation and the report -----------------------------------------------------------

TEST(FitValidation, ExactDataPredictsHeldOutGroupsAndPicksTheTrueSizeVariable) {
  ResultsTable table;
  table.path = "synthetic";
  table.runs = synthetic_runs(0.0, 1);  // No noise: the law with N = N-bar is exact.
  FitReportOptions options;
  options.bootstrap.resamples = 20;
  const FitReport report = make_fit_report(table, options);
  ASSERT_EQ(report.laws.size(), 4u);  // avg, final, initial, sparse
  const LawReport& avg = report.laws[0];
  EXPECT_EQ(avg.size_variable, SizeVariable::kAverage);
  EXPECT_LT(avg.validation.in_sample.mae, 1e-6);
  EXPECT_EQ(avg.validation.leave_one_size_out.groups, 5);
  EXPECT_EQ(avg.validation.leave_one_sparsity_out.groups, 4);
  EXPECT_EQ(avg.validation.leave_one_size_out.points, 60);
  EXPECT_LT(avg.validation.leave_one_size_out.max, 1e-4);
  EXPECT_LT(avg.validation.leave_one_sparsity_out.max, 1e-4);
  EXPECT_EQ(report.best, 0);
  // N_final ignores how long the run was dense: held out, it predicts far worse.
  EXPECT_GT(report.laws[1].validation.held_out_mae(), 100 * avg.validation.held_out_mae());
  EXPECT_EQ(report.laws[3].form, LawForm::kSparse);
}

// A size label per run (on 54,000 runs, once 54,000 refits of 54,000 runs each): the groups
// are dealt to kMaxFolds folds, each held out as a whole, and every run is still predicted.
TEST(FitValidation, ManyGroupsAreHeldOutInAtMostMaxFoldsFolds) {
  std::vector<RunRecord> runs = synthetic_runs(0.01, 4);
  for (const RunRecord& r : synthetic_runs(0.01, 5)) runs.push_back(r);
  const std::vector<LawPoint> points = avg_points(runs);
  std::vector<std::string> own_size, sparsity;
  for (size_t i = 0; i < runs.size(); ++i) {
    own_size.push_back("run " + std::to_string(i));
    sparsity.push_back(std::to_string(runs[i].sparsity));
  }
  const FitResult full =
      fit_law(LawForm::kChinchilla, points, chinchilla_start_grid(), FitOptions{});
  const Validation v = validate_law(points, own_size, sparsity, full, FitOptions{});
  ASSERT_EQ(kMaxFolds, 100);
  EXPECT_EQ(v.leave_one_size_out.groups, kMaxFolds);
  EXPECT_EQ(v.leave_one_size_out.points, 120);
  EXPECT_LT(v.leave_one_size_out.mae, 0.05);
  EXPECT_EQ(v.leave_one_sparsity_out.groups, 4);
}

// A table above the sample size says so in the notes and in fit.json.
TEST(FitValidation, ASampledTableIsNamedInTheNotesAndFitJson) {
  ResultsTable table;
  table.path = "synthetic";
  table.runs = synthetic_runs(0.01, 5);
  FitReportOptions options;
  options.size_variables = {SizeVariable::kAverage};
  options.fit.sample_size = 40;
  options.bootstrap.resamples = 20;
  const FitReport report = make_fit_report(table, options);
  bool named = false;
  for (const std::string& note : report.notes) {
    named = named || note.find(
                         "60 runs, more than the sample size 40: each law's start grid "
                         "ran on 40 sampled runs") != std::string::npos;
  }
  EXPECT_TRUE(named);
  const std::string dir = temp_dir("sampled");
  write_fit_json(report, dir + "/fit.json");
  EXPECT_EQ(read_fit_document(dir + "/fit.json")["objective"]["sample_size"], 40);
}

TEST(FitValidation, DenseOnlyDataSkipsTheSparseLawWithANote) {
  ResultsTable table;
  table.path = "dense";
  for (const RunRecord& r : synthetic_runs(0.01, 2)) {
    if (r.sparsity == 0) table.runs.push_back(r);
  }
  FitReportOptions options;
  options.size_variables = {SizeVariable::kAverage};
  options.bootstrap.resamples = 20;
  const FitReport report = make_fit_report(table, options);
  ASSERT_EQ(report.laws.size(), 1u);
  EXPECT_EQ(report.laws[0].validation.leave_one_sparsity_out.points, 0);
  EXPECT_TRUE(std::isnan(report.laws[0].validation.leave_one_sparsity_out.mae));
  ASSERT_FALSE(report.notes.empty());
  EXPECT_NE(report.notes.back().find("not identifiable"), std::string::npos);
}

// Too few sizes or durations cannot separate the size and data terms: the report says so
// (it once reported such fits like any other).
TEST(FitValidation, TwoSizesAndOneDurationAreFlaggedInTheNotes) {
  ResultsTable table;
  table.path = "narrow";
  for (const RunRecord& r : synthetic_runs(0.01, 3)) {
    if ((r.n_initial == 1e7 || r.n_initial == 3e7) && r.tokens == 20 * r.n_initial) {
      table.runs.push_back(r);
    }
  }
  FitReportOptions options;
  options.size_variables = {SizeVariable::kAverage};
  options.bootstrap.resamples = 20;
  const FitReport report = make_fit_report(table, options);
  EXPECT_EQ(report.sizes, 2);
  EXPECT_EQ(report.durations_per_size, 1);
  bool flagged = false;
  for (const std::string& note : report.notes) {
    flagged = flagged || note.find("not a scaling law") != std::string::npos;
  }
  EXPECT_TRUE(flagged);
  // The full grid is not flagged for coverage.
  table.runs = synthetic_runs(0.01, 3);
  const FitReport full = make_fit_report(table, options);
  for (const std::string& note : full.notes)
    EXPECT_EQ(note.find("not a scaling law"), std::string::npos) << note;
}

TEST(FitValidation, DegenerateCoefficientsAreNamed) {
  LawReport law;
  law.bootstrap.coefficients = {{"A", 400, 20, 0, 0},
                                {"B", 2000, 5000, 0, 0},  // SE larger than the estimate
                                {"E", 1e-9, 0.1, 0, 0},   // collapsed
                                {"alpha", 0.3, INFINITY, 0, 0},
                                {"beta", 0.3, 0.01, 0, 0}};
  const std::vector<std::string> reasons = degenerate_reasons(law, 3.0);
  ASSERT_EQ(reasons.size(), 4u);
  EXPECT_NE(reasons[0].find("B = 2000"), std::string::npos) << reasons[0];
  EXPECT_NE(reasons[1].find("E = 1e-09 collapsed to zero"), std::string::npos) << reasons[1];
  EXPECT_NE(reasons[2].find("E = 1e-09 has a bootstrap standard error"), std::string::npos)
      << reasons[2];
  EXPECT_NE(reasons[3].find("not finite"), std::string::npos) << reasons[3];
  law.bootstrap.coefficients = {{"E", 3.5, 0.1, 0, 0}};
  const std::vector<std::string> high = degenerate_reasons(law, 3.0);
  ASSERT_EQ(high.size(), 1u);
  EXPECT_NE(high[0].find("not below the lowest loss"), std::string::npos) << high[0];
  law.bootstrap.coefficients = {{"E", 1.8, 0.1, 0, 0}, {"alpha", 0.34, 0.02, 0, 0}};
  EXPECT_TRUE(degenerate_reasons(law, 3.0).empty());
}

// --- the results reader -----------------------------------------------------------------

std::string write_text(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

const char kSixRuns[] =
    "n_avg,n_final,n_initial,tokens,loss\n"
    "1e7,1e7,1e7,2e8,4.1\n"
    "3e7,3e7,3e7,6e8,3.6\n"
    "1e8,1e8,1e8,2e9,3.2\n"
    "3e8,3e8,3e8,6e9,2.9\n"
    "1e9,1e9,1e9,2e10,2.6\n"
    "3e9,3e9,3e9,6e10,2.4\n";

TEST(FitResultsCsv, ReadsAnyColumnOrderAndSkipsUnfinishedRuns) {
  const std::string dir = temp_dir("reader");
  std::vector<RunRecord> runs = synthetic_runs(0.01, 5);
  write_csv(dir + "/results.csv", runs);
  // A directory means its results.csv.
  const ResultsTable table = read_results_csv(dir);
  EXPECT_EQ(table.path, dir + "/results.csv");
  ASSERT_EQ(table.runs.size(), runs.size());
  EXPECT_DOUBLE_EQ(table.runs[7].n_avg, runs[7].n_avg);
  EXPECT_DOUBLE_EQ(table.runs[7].loss, runs[7].loss);
  EXPECT_EQ(table.runs[7].size, runs[7].size);
  EXPECT_EQ(table.runs[7].line, 9);

  const std::string path = write_text(dir, "status.csv",
                                      "status,n_avg,n_final,n_initial,tokens,loss\n"
                                      "failed,1,1,1,1,1\n"
                                      "\n"
                                      "done,1e7,1e7,1e7,2e8,4.1\n"
                                      "done,3e7,3e7,3e7,6e8,3.6\n"
                                      "done,1e8,1e8,1e8,2e9,3.2\n"
                                      "done,3e8,3e8,3e8,6e9,2.9\n"
                                      "done,1e9,1e9,1e9,2e10,2.6\n"
                                      "done,3e9,3e9,3e9,6e10,2.4\n"
                                      "\"running\",2,2,2,2,2\n"
                                      "\"failed: a reason, over\n two lines\",3,3,3,3,3\n"
                                      "done,2e9,2e9,2e9,4e10,2.5\n");
  const ResultsTable partial = read_results_csv(path);
  EXPECT_EQ(partial.skipped, 3);
  ASSERT_EQ(partial.runs.size(), 7u);
  EXPECT_EQ(partial.runs[0].line, 4);
  EXPECT_EQ(partial.runs[6].line, 13);  // After a record spanning lines 11 and 12.
}

// Several tables are one data set: each file checked as one, each run in only one file, the
// minimum of runs over the union.
TEST(FitResultsCsv, SeveralFilesAreOneDataSetWithEachRunOnce) {
  const std::string dir = temp_dir("several");
  const std::string header = "id,lr,n_avg,n_final,n_initial,tokens,loss\n";
  const std::string a = write_text(dir, "a.csv",
                                   header +
                                       "r1,3e-3,1e7,1e7,1e7,2e8,4.1\nr2,3e-3,3e7,3e7,3e7,6e8,3.6\n"
                                       "r3,3e-3,1e8,1e8,1e8,2e9,3.2\n");
  const std::string b = write_text(dir, "b.csv",
                                   header +
                                       "r4,3e-3,3e8,3e8,3e8,6e9,2.9\nr5,3e-3,1e9,1e9,1e9,2e10,2.6\n"
                                       "r1,1e-3,1e7,1e7,1e7,2e8,4.3\n");
  EXPECT_THROW(read_results_csv(a), DataError);  // Three runs alone are too few.
  const ResultsTable table = read_results_csv(std::vector<std::string>{a, b});
  EXPECT_EQ(table.path, a + ", " + b);
  ASSERT_EQ(table.runs.size(), 6u);
  EXPECT_EQ(table.runs[5].id, "r1");
  EXPECT_DOUBLE_EQ(table.runs[5].lr, 1e-3);
  EXPECT_EQ(table.runs[5].file, b);
  EXPECT_EQ(table.runs[5].line, 4);
  // The same run (id and lr) in two files is named with both places.
  const std::string c = write_text(dir, "c.csv", header + "r2,3e-3,3e7,3e7,3e7,6e8,3.6\n");
  try {
    read_results_csv(std::vector<std::string>{a, b, c});
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(c + " line 2: the same run as " + a + " line 3"),
              std::string::npos)
        << e.what();
  }
  // One file under two names (the directory and its results.csv) is said as such.
  fs::copy_file(a, dir + "/results.csv", fs::copy_options::overwrite_existing);
  try {
    read_results_csv(std::vector<std::string>{dir, b, dir + "/results.csv"});
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("results " + dir + "/results.csv and " + dir +
                                         " are the same file"),
              std::string::npos)
        << e.what();
  }
}

// Each size keeps the rate whose dense runs are best at the durations every rate has; the
// sparse runs of the other rates go too.
TEST(LrSelection, KeepsEachSizesRateWithTheLowestDenseLossAtCommonDurations) {
  const auto run = [](const std::string& size, double lr, double sparsity, double tokens,
                      double loss) {
    RunRecord r;
    r.size = size, r.lr = lr, r.sparsity = sparsity, r.tokens = tokens, r.loss = loss;
    r.file = "x.csv";
    return r;
  };
  std::vector<RunRecord> runs = {
      // Size A: 1e-3 is best at 1e8 (the only duration 3e-2 also has), though 3e-3 wins at 2e8.
      run("A", 1e-3, 0, 1e8, 3.0), run("A", 1e-3, 0, 2e8, 2.9), run("A", 1e-3, 0.5, 1e8, 3.2),
      run("A", 3e-3, 0, 1e8, 3.1), run("A", 3e-3, 0, 2e8, 2.5), run("A", 3e-3, 0.5, 1e8, 3.3),
      run("A", 3e-2, 0, 1e8, 3.05), run("A", 3e-2, 0, 1e8, 3.15),  // Two seeds: mean 3.1.
      // Size B has one rate: kept whole.
      run("B", 1e-3, 0, 1e8, 2.7), run("B", 1e-3, 0.8, 1e8, 2.9)};
  const LrSelection selection = select_best_lr(runs);
  ASSERT_EQ(selection.choices.size(), 2u);
  EXPECT_EQ(selection.choices[0].size, "A");
  EXPECT_DOUBLE_EQ(selection.choices[0].chosen_lr, 1e-3);
  EXPECT_EQ(selection.choices[0].common_durations, 1);
  ASSERT_EQ(selection.choices[0].rates.size(), 3u);
  EXPECT_DOUBLE_EQ(selection.choices[0].rates[2].mean_dense_loss, 3.1);
  EXPECT_EQ(selection.choices[0].kept_runs, 3);
  EXPECT_EQ(selection.choices[0].dropped_runs, 5);
  EXPECT_EQ(selection.choices[1].kept_runs, 2);
  ASSERT_EQ(selection.runs.size(), 5u);
  for (const RunRecord& r : selection.runs) EXPECT_DOUBLE_EQ(r.lr, 1e-3);
  const std::vector<std::string> lines = describe(selection);
  EXPECT_EQ(lines[0],
            "lr selection: A keeps lr 0.001 (mean dense loss 3) of 0.001 (3), 0.003 (3.1), 0.03 "
            "(3.1) at 1 common duration; 3 runs kept, 5 dropped");

  runs.push_back(run("C", 1e-3, 0, 1e8, 3.0));
  runs.push_back(run("C", 3e-3, 0, 2e8, 3.0));  // No duration in common.
  EXPECT_THROW(select_best_lr(runs), UsageError);
  runs.resize(2);
  runs[1].lr = 0;  // No lr column.
  EXPECT_THROW(select_best_lr(runs), UsageError);
}

TEST(FitResultsCsv, DerivesSparsityAndSizeWhenAbsent) {
  const std::string dir = temp_dir("derive");
  const ResultsTable t = read_results_csv(
      write_text(dir, "r.csv",
                 "n_avg,n_final,n_initial,tokens,loss\n"
                 "6e6,2e6,1e7,2e8,4.1\n7e6,5e6,1e7,2e8,4\n1e7,1e7,1e7,2e8,3.9\n"
                 "3e7,3e7,3e7,6e8,3.6\n1e8,1e8,1e8,2e9,3.2\n3e8,3e8,3e8,6e9,2.9\n"));
  ASSERT_EQ(t.runs.size(), 6u);
  EXPECT_NEAR(t.runs[0].sparsity, 0.8, 1e-12);
  EXPECT_NEAR(t.runs[1].sparsity, 0.5, 1e-12);
  EXPECT_EQ(t.runs[0].size, "1e+07");
  EXPECT_EQ(t.runs[0].size, t.runs[2].size);
}

struct BadCsv {
  const char* name;
  std::string text;
  const char* expected;  // Part of the message, after the file name.
};

TEST(FitResultsCsv, MalformedInputNamesFileLineAndColumn) {
  const std::string dir = temp_dir("bad");
  const std::string good_rows = std::string(kSixRuns).substr(std::string(kSixRuns).find('\n') + 1);
  const BadCsv cases[] = {
      {"missing.csv", "n_avg,n_final,n_initial,loss\n1,1,1,1\n", "line 1: missing column 'tokens'"},
      {"negative.csv", "n_avg,n_final,n_initial,tokens,loss\n" + good_rows + "1e7,1e7,1e7,-2e8,4\n",
       "line 8, column 'tokens': -2e8 is not positive"},
      {"zero.csv", "n_avg,n_final,n_initial,tokens,loss\n1e7,1e7,1e7,2e8,0\n" + good_rows,
       "line 2, column 'loss': 0 is not positive"},
      {"huge-params.csv",
       "n_avg,n_final,n_initial,tokens,loss\n" + good_rows + "1e7,1e7,1e300,2e8,4\n",
       "line 8, column 'n_initial': 1e300 is beyond any training run; expected at most 1e15"},
      {"huge-tokens.csv",
       "n_avg,n_final,n_initial,tokens,loss\n" + good_rows + "1e7,1e7,1e7,1e308,4\n",
       "line 8, column 'tokens': 1e308 is beyond any training run; expected at most 1e17"},
      {"nan.csv", "n_avg,n_final,n_initial,tokens,loss\n" + good_rows + "nan,1e7,1e7,2e8,4\n",
       "line 8, column 'n_avg': NaN"},
      {"text.csv", "n_avg,n_final,n_initial,tokens,loss\n" + good_rows + "1e7,1e7,1e7,2e8,abc\n",
       "line 8, column 'loss': 'abc' is not a number"},
      {"few.csv", "n_avg,n_final,n_initial,tokens,loss\n1,1,1,1,1\n2,2,2,2,2\n",
       "2 usable runs (status done); a fit needs at least 6"},
      {"fields.csv", "n_avg,n_final,n_initial,tokens,loss\n" + good_rows + "1,1,1\n",
       "line 8: 3 fields; the header has 5"},
      {"order.csv", "n_avg,n_final,n_initial,tokens,loss\n" + good_rows + "5,6,10,2,2\n",
       "line 8, column 'n_final': n_final exceeds n_avg"},
      {"empty.csv", "", "empty file"},
      {"huge.csv", "n_avg,n_final,n_initial,tokens,loss\n" + good_rows + "1e7,1e7,1e7,2e8,1e308\n",
       "line 8, column 'loss': 1e308 nats per token is not a language model's loss"},
      {"twice.csv", "n_avg,n_final,n_initial,tokens,loss\n" + good_rows + good_rows,
       "line 8: the same run as line 2"},
      {"same-id.csv",
       "id,n_avg,n_final,n_initial,tokens,loss\na,1e7,1e7,1e7,2e8,4\n"
       "b,1e7,1e7,1e7,3e8,3.9\na,1e7,1e7,1e7,4e8,3.8\n",
       "line 4: the same run as line 2 (id a)"},
      // Regression (tests/fuzz/regressions/results_csv/): a sparsity that rounds to 1 was a
      // std::bad_optional_access, not a DataError.
      {"tiny-ratio.csv", "n_avg,n_final,n_initial,tokens,loss\n1e-5,1e-5,1e12,1e9,3\n" + good_rows,
       "line 2, column 'n_final': 1e-5 is so far below n_initial"},
  };
  for (const BadCsv& c : cases) {
    const std::string path = write_text(dir, c.name, c.text);
    try {
      read_results_csv(path);
      ADD_FAILURE() << c.name << ": no error";
    } catch (const DataError& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.rfind(path, 0), 0u) << message;
      EXPECT_NE(message.find(c.expected), std::string::npos) << message;
    }
  }
  EXPECT_THROW(read_results_csv(dir + "/nonexistent.csv"), DataError);
  EXPECT_THROW(read_results_csv(temp_dir("empty-dir")), DataError);
}

// --- planning ---------------------------------------------------------------------------

const Law kPlanLaw = chinchilla_law(kTrue[0], kTrue[1], kTrue[2], kTrue[3], kTrue[4]);

double law_loss(double n_bar, double tokens) {
  return kTrue[2] + kTrue[0] / std::pow(n_bar, kTrue[3]) + kTrue[1] / std::pow(tokens, kTrue[4]);
}

TEST(PlanCompute, DenseRunIsTheComputeOptimumOnTheBudgetLine) {
  PlanRequest request;
  request.flops = 1e20;
  const Plan plan = plan_compute(kPlanLaw, request);
  const PlanCandidate& d = plan.dense;
  EXPECT_EQ(d.sparsity, 0);
  EXPECT_DOUBLE_EQ(d.dense_params, d.mean_params);
  EXPECT_NEAR(6 * d.mean_params * d.tokens / request.flops, 1, 1e-12);
  EXPECT_NEAR(d.loss, law_loss(d.mean_params, d.tokens), 1e-12);
  for (double factor : {0.98, 1.02}) {
    const double n = d.mean_params * factor;
    EXPECT_GT(law_loss(n, request.flops / (6 * n)), d.loss) << factor;
  }
}

TEST(PlanCompute, WithoutACapTheSparsestRunTiesOnLossWithASmallerModel) {
  PlanRequest request;
  request.flops = 1e20;
  request.max_sparsity = 0.8;
  const Plan plan = plan_compute(kPlanLaw, request);
  EXPECT_NEAR(plan.best.loss, plan.dense.loss, 1e-12);
  EXPECT_NEAR(plan.best.sparsity, 0.8, 1e-12);
  EXPECT_EQ(plan.best.schedule, ScheduleKind::kGeometric);  // Denser on average than cubic.
  const double density =
      solve_compute_phases(ScheduleKind::kGeometric, 0.8, 0.25, 0.75).mean_density;
  EXPECT_NEAR(plan.best.mean_params / plan.best.dense_params, density, 1e-12);
  EXPECT_NEAR(plan.best.final_params, 0.2 * plan.best.dense_params, 1e-6);
  EXPECT_LT(plan.best.final_params, plan.dense.final_params);
}

TEST(PlanCompute, AFinalSizeCapMakesSparsityWin) {
  PlanRequest request;
  request.flops = 1e20;
  request.max_sparsity = 0.8;
  request.max_final_params = 1e8;  // Well below the dense optimum (~ 1e9 here).
  const Plan plan = plan_compute(kPlanLaw, request);
  EXPECT_TRUE(plan.dense.capped);
  EXPECT_NEAR(plan.dense.final_params, 1e8, 1e-3);
  EXPECT_GT(plan.best.sparsity, 0.5);
  EXPECT_LE(plan.best.final_params, 1e8 * (1 + 1e-12));
  EXPECT_LT(plan.best.loss, plan.dense.loss - 0.01);
  EXPECT_NEAR(6 * plan.best.mean_params * plan.best.tokens / request.flops, 1, 1e-12);
}

TEST(PlanCompute, WarnsBeyondTheDataAndOnATie) {
  FitEvidence evidence;
  evidence.n_avg = {1e7, 1e9};
  evidence.tokens = {1e8, 1e11};
  evidence.compute = {1e16, 1e20};
  evidence.in_sample_mae = 0.01;
  PlanRequest request;
  request.flops = 1e20;
  request.max_sparsity = 0.8;
  const Plan inside = plan_compute(kPlanLaw, request);
  std::vector<std::string> warnings = plan_warnings(inside, request, evidence);
  // Uncapped, every sparsity predicts the dense loss: a tie, said as such.
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("sparse and dense tie"), std::string::npos) << warnings[0];

  // A search above the largest sparsity fitted is extrapolation, said as such.
  evidence.max_sparsity = 0.5;
  warnings = plan_warnings(inside, request, evidence);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("the search goes up to sparsity 0.8, above the largest fitted (0.5)"),
            std::string::npos)
      << warnings[0];
  evidence.max_sparsity = 0.8;

  request.flops = 1e23;  // 1000x the largest run fitted.
  const Plan beyond = plan_compute(kPlanLaw, request);
  warnings = plan_warnings(beyond, request, evidence);
  ASSERT_GE(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("the budget C 1e+23 is 1000x above"), std::string::npos)
      << warnings[0];

  evidence.degenerate = {"E = 1e-09 collapsed to zero"};
  evidence.sizes = 2;
  request.flops = 1e20;
  request.max_final_params = 1e8;  // Sparsity wins: no tie.
  const Plan capped = plan_compute(kPlanLaw, request);
  warnings = plan_warnings(capped, request, evidence);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("degenerate"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("fitted on 2 size(s)"), std::string::npos) << warnings[1];
}

TEST(PlanCompute, RejectsBadRequests) {
  PlanRequest request;
  request.flops = -1;
  EXPECT_THROW(plan_compute(kPlanLaw, request), UsageError);
  request.flops = 1e20;
  request.max_sparsity = 1;
  EXPECT_THROW(plan_compute(kPlanLaw, request), UsageError);
  request.max_sparsity = 0;
  Law sparse{LawForm::kSparse, {1, 1, 1, 1, 1, 1, 1}};
  EXPECT_THROW(plan_compute(sparse, request), UsageError);
}

// With the N_final law a sparse run is charged for its small final model: uncapped, the dense
// run wins; the planned run minimises that law along the budget line C = 6 N-bar D.
TEST(PlanCompute, TheFinalSizeLawPlansOnItsOwnSizeVariable) {
  PlanRequest request;
  request.flops = 1e20;
  request.max_sparsity = 0.8;
  const Plan plan = plan_compute(kPlanLaw, SizeVariable::kFinal, request);
  EXPECT_EQ(plan.best.sparsity, 0);
  // Dense, N_final = N-bar = P: the N-bar law's dense run.
  const Plan by_avg = plan_compute(kPlanLaw, request);
  EXPECT_NEAR(plan.dense.dense_params / by_avg.dense.dense_params, 1, 1e-12);
  EXPECT_NEAR(plan.dense.loss, by_avg.dense.loss, 1e-12);
  auto final_loss = [&](double dense, double sparsity, double mean_density) {
    const double tokens = request.flops / (6 * mean_density * dense);
    return law_loss((1 - sparsity) * dense, tokens);
  };
  const double density =
      solve_compute_phases(ScheduleKind::kGeometric, 0.8, 0.25, 0.75).mean_density;
  // The sparse candidate is not returned when dense wins, so check the closed form of
  // fit/planner.h (log P*) directly: the law's minimum along the budget line.
  PlanCandidate run;
  run.sparsity = 0.8;
  const double log_p =
      (std::log(kTrue[3] * kTrue[0] / (kTrue[4] * kTrue[1])) - kTrue[3] * std::log(0.2) +
       kTrue[4] * std::log(request.flops / (6 * density))) /
      (kTrue[3] + kTrue[4]);
  const double p_star = std::exp(log_p);
  for (double factor : {0.98, 1.02}) {
    EXPECT_GT(final_loss(p_star * factor, 0.8, density), final_loss(p_star, 0.8, density));
  }
  run.dense_params = p_star;
  run.mean_params = density * p_star;
  run.final_params = 0.2 * p_star;
  run.tokens = request.flops / (6 * run.mean_params);
  EXPECT_NEAR(
      planned_loss(LawForm::kChinchilla, SizeVariable::kFinal, kPlanLaw.coefficients(), run),
      final_loss(p_star, 0.8, density), 1e-12);
  // A final-size cap below the dense optimum binds N_final for every candidate.
  request.max_final_params = 1e8;
  const Plan capped = plan_compute(kPlanLaw, SizeVariable::kFinal, request);
  EXPECT_TRUE(capped.dense.capped);
  EXPECT_LE(capped.best.final_params, 1e8 * (1 + 1e-12));
  EXPECT_NEAR(6 * capped.best.mean_params * capped.best.tokens / request.flops, 1, 1e-12);
}

// The N_initial law credits a sparse run with its dense size: the sparsest run wins, and the
// N-bar law through the general entry point is the N-bar plan bit for bit.
TEST(PlanCompute, TheInitialSizeLawFavoursSparsityAndAvgIsUnchanged) {
  PlanRequest request;
  request.flops = 1e20;
  request.max_sparsity = 0.8;
  const Plan initial = plan_compute(kPlanLaw, SizeVariable::kInitial, request);
  EXPECT_NEAR(initial.best.sparsity, 0.8, 1e-12);
  EXPECT_LT(initial.best.loss, initial.dense.loss);
  for (double factor : {0.98, 1.02}) {
    PlanCandidate moved = initial.best;
    moved.dense_params *= factor;
    moved.mean_params *= factor;
    moved.final_params *= factor;
    moved.tokens = request.flops / (6 * moved.mean_params);
    EXPECT_GT(
        planned_loss(LawForm::kChinchilla, SizeVariable::kInitial, kPlanLaw.coefficients(), moved),
        initial.best.loss);
  }
  request.max_final_params = 1e8;
  const Plan a = plan_compute(kPlanLaw, request);
  const Plan b = plan_compute(kPlanLaw, SizeVariable::kAverage, request);
  for (const auto& [x, y] : {std::pair{a.best, b.best}, std::pair{a.dense, b.dense}}) {
    EXPECT_EQ(x.dense_params, y.dense_params);
    EXPECT_EQ(x.sparsity, y.sparsity);
    EXPECT_EQ(x.schedule, y.schedule);
    EXPECT_EQ(x.mean_params, y.mean_params);
    EXPECT_EQ(x.tokens, y.tokens);
    EXPECT_EQ(x.loss, y.loss);
  }
}

// The sparse law (Frantar et al.) plans with N_final and S; planned_loss agrees with the
// fitted law's own prediction.
TEST(PlanCompute, TheSparseLawPlansWithTheFittedLawsPrediction) {
  const Law sparse{
      LawForm::kSparse,
      {std::log(50.0), std::log(400.0), 0.37 * std::log(2000.0), std::log(1.8), 0.34, 0.37, 1.5}};
  PlanRequest request;
  request.flops = 1e20;
  request.max_sparsity = 0.8;
  request.max_final_params = 1e8;
  const Plan plan = plan_compute(sparse, SizeVariable::kFinal, request);
  for (const PlanCandidate& p : {plan.best, plan.dense}) {
    const double predicted =
        sparse.predict(make_law_point(p.final_params, p.tokens, p.sparsity, 1));
    EXPECT_NEAR(p.loss, predicted, 1e-12 * predicted);
    EXPECT_NEAR(planned_loss(LawForm::kSparse, SizeVariable::kFinal, sparse.coefficients(), p),
                predicted, 1e-12 * predicted);
    EXPECT_NEAR(6 * p.mean_params * p.tokens / request.flops, 1, 1e-12);
  }
  EXPECT_LE(plan.best.loss, plan.dense.loss);
  // Uncapped, a sparse run (A' falls with S here) is the law's minimum along its budget line:
  // moving P either way, at the same S, schedule and C, predicts more.
  request.max_final_params = std::numeric_limits<double>::infinity();
  const Plan free = plan_compute(sparse, SizeVariable::kFinal, request);
  ASSERT_GT(free.best.sparsity, 0);
  EXPECT_FALSE(free.best.capped);
  for (double factor : {0.98, 1.02}) {
    PlanCandidate moved = free.best;
    moved.dense_params *= factor;
    moved.mean_params *= factor;
    moved.final_params *= factor;
    moved.tokens = request.flops / (6 * moved.mean_params);
    EXPECT_GT(planned_loss(LawForm::kSparse, SizeVariable::kFinal, sparse.coefficients(), moved),
              free.best.loss)
        << factor;
  }
}

std::vector<std::vector<double>> perturbed_draws(const std::vector<double>& c, int n, double sd) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, sd);
  std::vector<std::vector<double>> draws;
  for (int i = 0; i < n; ++i) {
    std::vector<double> d = c;
    for (double& v : d) v *= 1 + noise(rng);
    draws.push_back(d);
  }
  return draws;
}

// Intervals re-evaluate the planned runs under each draw: the same draw everywhere collapses
// them to the plan's losses; a capped sparse win is distinguishable, an uncapped tie is not.
TEST(PlanCompute, BootstrapIntervalsOfThePlannedLosses) {
  PlanRequest request;
  request.flops = 1e20;
  request.max_sparsity = 0.8;
  request.max_final_params = 1e8;
  const Plan capped = plan_compute(kPlanLaw, request);
  const std::vector<double> c = kPlanLaw.coefficients();
  PlanIntervals in = plan_intervals(capped, LawForm::kChinchilla, SizeVariable::kAverage,
                                    std::vector<std::vector<double>>(30, c));
  EXPECT_EQ(in.draws, 30);
  EXPECT_NEAR(in.best.low, capped.best.loss, 1e-12);
  EXPECT_NEAR(in.best.high, capped.best.loss, 1e-12);
  EXPECT_NEAR(in.dense.low, capped.dense.loss, 1e-12);

  in = plan_intervals(capped, LawForm::kChinchilla, SizeVariable::kAverage,
                      perturbed_draws(c, 200, 0.01));
  EXPECT_EQ(in.draws, 200);
  EXPECT_LT(in.best.low, capped.best.loss);
  EXPECT_GT(in.best.high, capped.best.loss);
  EXPECT_TRUE(in.difference.excludes_zero());
  EXPECT_GT(in.difference.low, 0);

  request.max_final_params = std::numeric_limits<double>::infinity();
  const Plan tie = plan_compute(kPlanLaw, request);
  ASSERT_GT(tie.best.sparsity, 0);
  in = plan_intervals(tie, LawForm::kChinchilla, SizeVariable::kAverage,
                      perturbed_draws(c, 200, 0.01));
  EXPECT_FALSE(in.difference.excludes_zero());

  std::vector<std::vector<double>> bad = {{1, 2, 3}, {c[0], c[1], c[2], 1e300, c[4]}};
  in = plan_intervals(tie, LawForm::kChinchilla, SizeVariable::kAverage, bad);
  EXPECT_EQ(in.draws, 1);  // The wrong-length draw is left out.
  in = plan_intervals(tie, LawForm::kChinchilla, SizeVariable::kAverage, {});
  EXPECT_EQ(in.draws, 0);
  EXPECT_TRUE(std::isnan(in.best.low));
  EXPECT_FALSE(in.difference.excludes_zero());
}

TEST(PlanCompute, ASearchAboveTheFittedSparsityNeedsExtrapolate) {
  FitEvidence evidence;
  evidence.max_sparsity = 0.8;
  PlanRequest request;
  request.flops = 1e20;
  request.max_sparsity = 0.8;
  EXPECT_NO_THROW(check_sparsity_range(request, evidence, false));
  request.max_sparsity = 0.9;
  try {
    check_sparsity_range(request, evidence, false);
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--max-sparsity 0.9 is above the largest sparsity of "
                                         "the fitted runs (0.8)"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("--extrapolate"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(check_sparsity_range(request, evidence, true));
}

TEST(FitFile, ReadFitDocumentRefusesMissingMalformedAndForeignFiles) {
  const std::string dir = temp_dir("document");
  auto expect_error = [](const std::string& path, const std::string& words) {
    try {
      read_fit_document(path);
      ADD_FAILURE() << "no error for " << path;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_error(dir + "/missing.json", "cannot read fit");
  expect_error(write_text(dir, "broken.json", "{\"format\": "), "is not valid JSON");
  expect_error(write_text(dir, "foreign.json", "{\"format\": \"journey-ledger\"}"),
               "is not a fit.json");
  expect_error(write_text(dir, "array.json", "[1, 2]"), "is not a fit.json");
  const nlohmann::json doc =
      read_fit_document(write_text(dir, "fit.json", "{\"format\": \"journey-fit\", \"runs\": 7}"));
  EXPECT_EQ(doc.at("runs"), 7);
}

// --- the commands -----------------------------------------------------------------------

TEST(FitCli, FitWritesFilesThatPlanReads) {
  const std::string dir = temp_dir("cli");
  write_csv(dir + "/results.csv", synthetic_runs(0.01, 11));
  const std::string out = dir + "/out";
  auto r = run_process(journey_command("fit " + dir + " --bootstrap 50 --out " + out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("N = avg"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("leave-one-size-out"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("best size variable: avg"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Frantar"), std::string::npos) << r.output;
  ASSERT_TRUE(fs::exists(out + "/fit.json"));
  ASSERT_TRUE(fs::exists(out + "/fit.csv"));
  std::ifstream csv(out + "/fit.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "form,size_variable,coefficient,estimate,se,ci95_low,ci95_high");

  const SavedFit saved = read_fit_json(out + "/fit.json");
  EXPECT_NEAR(saved.max_sparsity, 0.8, 1e-12);
  EXPECT_NEAR(saved.law.coefficients()[3], kTrue[3], 0.05);

  r = run_process(journey_command("plan --fit " + out + " --flops 1e20 --max-final-params 1e8"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("within the fitted data"), std::string::npos) << r.output;
  r = run_process(journey_command("plan --fit " + out + " --flops 1e26"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("warning: the budget C 1e+26 is"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("warning: sparse and dense tie"), std::string::npos) << r.output;
  r = run_process(journey_command("plan --fit " + out + " --flops 1e20 --max-final-params 1e8"));
  EXPECT_NE(r.output.find("best"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dense"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("geometric"), std::string::npos) << r.output;

  // A fit.json edited into nonsense is refused naming the file and the field.
  nlohmann::json doc = nlohmann::json::parse(std::ifstream(out + "/fit.json"));
  nlohmann::json bad_range = doc, bad_beta = doc;
  bad_range["data_range"]["sparsity"][1] = 1.5;
  for (nlohmann::json& law : bad_beta["laws"]) law["coefficients"]["beta"]["estimate"] = 1e308;
  for (const auto& [name, edited, words] :
       {std::tuple{"range.json", bad_range, "data_range.sparsity[1]"},
        std::tuple{"beta.json", bad_beta, "exponent beta of the N-bar law"}}) {
    const std::string file = write_text(dir, name, edited.dump());
    r = run_process(journey_command("plan --fit " + file + " --flops 1e20"));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(file + ": " + words), std::string::npos) << r.output;
  }
}

// A fit.json written by hand: the N-bar law kPlanLaw and an N_final law, with `best` as
// fit.json's best size variable and bootstrap draws near each law's coefficients.
nlohmann::json synthetic_fit(const std::string& best, bool draws) {
  auto law = [&](const std::string& size_variable, const std::vector<double>& c, double held_out) {
    nlohmann::json coefficients = nlohmann::json::object();
    for (size_t i = 0; i < c.size(); ++i) {
      coefficients[coefficient_names(LawForm::kChinchilla)[i]] = {
          {"estimate", c[i]}, {"se", 0.01 * c[i]}, {"ci95", {0.98 * c[i], 1.02 * c[i]}}};
    }
    auto error = [](double mae, int points) {
      return nlohmann::json{{"mae", mae}, {"max", 2 * mae}, {"points", points}, {"groups", 3}};
    };
    nlohmann::json j = {{"form", "chinchilla"},
                        {"size_variable", size_variable},
                        {"objective", 0.001},
                        {"coefficients", coefficients},
                        {"degenerate", nlohmann::json::array()},
                        {"validation",
                         {{"in_sample", error(0.004, 40)},
                          {"leave_one_size_out", error(held_out, 40)},
                          {"leave_one_sparsity_out", error(held_out, 40)}}}};
    if (draws) j["bootstrap_draws"] = perturbed_draws(c, 200, 0.01);
    return j;
  };
  const std::vector<double> avg = kPlanLaw.coefficients();
  const std::vector<double> final_size = {300, 2000, 1.8, 0.33, 0.37};
  return {{"format", "journey-fit"},
          {"version", 1},
          {"source", "synthetic"},
          {"runs", 40},
          {"skipped", 0},
          {"data_range",
           {{"n_avg", {1e7, 1e9}},
            {"n_final", {2e6, 1e9}},
            {"n_initial", {1e7, 1e9}},
            {"tokens", {1e8, 1e11}},
            {"sparsity", {0, 0.8}},
            {"compute", {1e16, 1e20}}}},
          {"coverage", {{"sizes", 4}, {"durations_per_size", 3}}},
          {"best_size_variable", best},
          {"laws",
           {law("avg", avg, best == "avg" ? 0.01 : 0.02),
            law("final", final_size, best == "final" ? 0.01 : 0.02)}},
          {"notes", nlohmann::json::array()}};
}

std::string loss_text(double loss) {
  char text[32];
  std::snprintf(text, sizeof text, "%.5f", loss);
  return text;
}

// `journey fit` found N_final the best size variable: the plan uses that law by default, says
// so and why, and --law picks another.
TEST(PlanCli, PlansWithTheBestValidatedLawUnlessToldOtherwise) {
  const std::string dir = temp_dir("plan-best");
  const std::string file = write_text(dir, "fit.json", synthetic_fit("final", true).dump());
  PlanRequest request;
  request.flops = 1e20;
  request.max_sparsity = 0.8;
  request.max_final_params = 1e8;
  const Law final_law = chinchilla_law(300, 2000, 1.8, 0.33, 0.37);
  const Plan by_final = plan_compute(final_law, SizeVariable::kFinal, request);
  const Plan by_avg = plan_compute(kPlanLaw, request);
  ASSERT_NE(loss_text(by_final.best.loss), loss_text(by_avg.best.loss));

  auto r =
      run_process(journey_command("plan --fit " + file + " --flops 1e20 --max-final-params 1e8"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("law: the N_final law, the size variable `journey fit` validated best "
                          "(avg: held-out MAE 0.02, final: held-out MAE 0.01)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("N = N_final): L = 1.8 + 300 / N_final^0.33"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("predicted loss: best " + loss_text(by_final.best.loss)),
            std::string::npos)
      << r.output;

  r = run_process(
      journey_command("plan --fit " + file + " --flops 1e20 --max-final-params 1e8 --law avg"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("law: the N-bar law (--law avg); `journey fit` validated final best"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("predicted loss: best " + loss_text(by_avg.best.loss)), std::string::npos)
      << r.output;

  // A fit whose best is N-bar plans with the N-bar law, as before --law existed.
  const std::string avg_file =
      write_text(temp_dir("plan-best-avg"), "fit.json", synthetic_fit("avg", true).dump());
  r = run_process(
      journey_command("plan --fit " + avg_file + " --flops 1e20 --max-final-params 1e8"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("law: the N-bar law, the size variable"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("predicted loss: best " + loss_text(by_avg.best.loss)), std::string::npos)
      << r.output;

  r = run_process(journey_command("plan --fit " + file + " --flops 1e20 --law median"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--law median: " + file + " holds no such law; it holds: avg, final"),
            std::string::npos)
      << r.output;
}

// Each recommendation carries a bootstrap interval from fit.json's draws; a difference whose
// interval holds 0 is "not distinguishable"; a fit.json without draws says why there is none.
TEST(PlanCli, PrintsBootstrapIntervalsOrWhyThereAreNone) {
  const std::string dir = temp_dir("plan-intervals");
  const std::string file = write_text(dir, "fit.json", synthetic_fit("avg", true).dump());
  auto r =
      run_process(journey_command("plan --fit " + file + " --flops 1e20 --max-final-params 1e8"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("95% bootstrap intervals (200 draws of the law"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(": distinguishable, the sparse run is predicted better"),
            std::string::npos)
      << r.output;
  r = run_process(journey_command("plan --fit " + file + " --flops 1e20"));  // Uncapped: a tie.
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("not distinguishable (the interval holds 0)"), std::string::npos)
      << r.output;
  r = run_process(journey_command("plan --fit " + file + " --flops 1e20 --law final"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("difference: none, the best run is the dense run"), std::string::npos)
      << r.output;

  const std::string old = write_text(dir, "old.json", synthetic_fit("avg", false).dump());
  r = run_process(journey_command("plan --fit " + old + " --flops 1e20 --max-final-params 1e8"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("95% bootstrap intervals"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("no bootstrap interval: " + old + " stores no bootstrap draws"),
            std::string::npos)
      << r.output;
}

// --max-sparsity above the fitted runs' largest sparsity is refused unless --extrapolate, and
// then warned about.
TEST(PlanCli, MaxSparsityAboveTheFittedRangeNeedsExtrapolate) {
  const std::string file =
      write_text(temp_dir("plan-extrapolate"), "fit.json", synthetic_fit("avg", true).dump());
  auto r = run_process(journey_command("plan --fit " + file + " --flops 1e20 --max-sparsity 0.9"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--max-sparsity 0.9 is above the largest sparsity of the fitted runs "
                          "(0.8)"),
            std::string::npos)
      << r.output;
  r = run_process(
      journey_command("plan --fit " + file + " --flops 1e20 --max-sparsity 0.9 --extrapolate"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("warning: the search goes up to sparsity 0.9, above the largest fitted "
                          "(0.8)"),
            std::string::npos)
      << r.output;
  // A sparsity no run can have is refused as such, not sent to --extrapolate.
  for (const char* bad : {"1.5", "nan"}) {
    r = run_process(journey_command("plan --fit " + file + " --flops 1e20 --max-sparsity " + bad));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("--max-sparsity must lie in [0, 1)"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("--extrapolate"), std::string::npos) << r.output;
  }
}

// fit.json is written through io/atomic_file.h (random temporary names, O_EXCL) and replaced,
// never written through: symbolic links planted at its name or at the temporary name the
// fit once used (fit.json.tmp-<pid>, here the pid the shell execs into) stay pointing at an
// untouched file.
// An lr scan in two files fitted as one: --out is required, and --select best-lr keeps each
// size's better rate, says so and records it in fit.json.
TEST(FitCli, SeveralResultsWithSelectBestLrFitTheBetterRate) {
  const std::string dir = temp_dir("cli-lr");
  const std::vector<RunRecord> runs = synthetic_runs(0.01, 13);
  for (const auto& [file, lr, penalty] :
       {std::tuple<const char*, const char*, double>{"good.csv", "3e-3", 0.0},
        {"bad.csv", "1e-3", 0.2}}) {
    std::ofstream out(dir + "/" + file);
    out.precision(17);
    out << "id,lr,size,sparsity,n_avg,n_final,n_initial,tokens,loss\n";
    for (size_t i = 0; i < runs.size(); ++i) {
      const RunRecord& r = runs[i];
      out << "c" << i << "," << lr << "," << r.size << "," << r.sparsity << "," << r.n_avg << ","
          << r.n_final << "," << r.n_initial << "," << r.tokens << "," << r.loss + penalty << "\n";
    }
  }
  const std::string both = dir + "/good.csv " + dir + "/bad.csv";
  auto r = run_process(journey_command("fit " + both + " --bootstrap 20"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--out DIR is required with several RESULTS"), std::string::npos)
      << r.output;
  r = run_process(
      journey_command("fit " + both + " --bootstrap 20 --select best-lr --out " + dir + "/fit"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("lr selection: 1e+07 keeps lr 0.003"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(std::to_string(runs.size()) + " runs from " + dir + "/good.csv, " + dir +
                          "/bad.csv"),
            std::string::npos)
      << r.output;
  std::ifstream in(dir + "/fit/fit.json");
  const std::string fit_json((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(fit_json.find("lr selection: 3e+08 keeps lr 0.003"), std::string::npos);
  EXPECT_NEAR(read_fit_json(dir + "/fit/fit.json").law.coefficients()[3], kTrue[3], 0.05);
}

TEST(FitCli, PlantedSymlinksAreNeverWrittenThrough) {
  const std::string dir = temp_dir("symlink");
  write_csv(dir + "/results.csv", synthetic_runs(0.01, 12));
  const std::string victim = dir + "/victim.txt";
  std::ofstream(victim) << "precious\n";
  fs::create_symlink(victim, dir + "/fit.json");
  auto r = run_process("sh -c 'ln -s " + victim + " " + dir + "/fit.json.tmp-$$ && ln -s " +
                       victim + " " + dir + "/fit.csv.tmp-$$ && exec " +
                       journey_command("fit " + dir + " --bootstrap 20") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(victim);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "precious\n");
  EXPECT_FALSE(fs::is_symlink(dir + "/fit.json"));
  EXPECT_NO_THROW(read_fit_json(dir + "/fit.json"));
}

TEST(FitCli, MalformedResultsExit1NamingTheProblem) {
  const std::string dir = temp_dir("cli-bad");
  const std::string missing =
      write_text(dir, "missing.csv", "n_avg,n_final,tokens,loss\n1,1,1,1\n");
  auto r = run_process(journey_command("fit " + missing));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(missing + " line 1: missing column 'n_initial'"), std::string::npos)
      << r.output;
  const std::string nan = write_text(dir, "nan.csv", std::string(kSixRuns) + "1e7,1e7,1e7,nan,4\n");
  r = run_process(journey_command("fit " + nan));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("line 8, column 'tokens': NaN"), std::string::npos) << r.output;
  const std::string negative =
      write_text(dir, "negative.csv", std::string(kSixRuns) + "1e7,1e7,1e7,2e8,-4\n");
  r = run_process(journey_command("fit " + negative));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("line 8, column 'loss': -4 is not positive"), std::string::npos)
      << r.output;
  const std::string few = write_text(dir, "few.csv",
                                     "n_avg,n_final,n_initial,tokens,loss\n"
                                     "1e7,1e7,1e7,2e8,4.1\n3e7,3e7,3e7,6e8,3.6\n");
  r = run_process(journey_command("fit " + few));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("a fit needs at least 6"), std::string::npos) << r.output;
  r = run_process(journey_command("fit " + dir + "/nonexistent.csv"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("nonexistent.csv"), std::string::npos) << r.output;
  // The other files of a sweep directory, given by mistake, are named for what they are.
  const std::string h5 = write_text(dir, "results.h5", std::string("\x89HDF\r\n\x1a\n\0\0", 10));
  const std::string json =
      write_text(dir, "ledger.json", "{\n \"format\": \"journey-ledger\"\n}\n");
  for (const auto& [file, kind] : {std::pair{h5, "an HDF5 file"}, std::pair{json, "JSON"}}) {
    r = run_process(journey_command("fit " + file));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(file + " is " + kind + ", not a CSV table"), std::string::npos)
        << r.output;
  }
  EXPECT_FALSE(fs::exists(dir + "/fit.json"));
}

TEST(FitCli, BadFlagsExit2) {
  const std::string dir = temp_dir("cli-flags");
  const std::string csv = write_text(dir, "r.csv", kSixRuns);
  auto r = run_process(journey_command("fit " + csv + " --size-variable median"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--size-variable 'median'"), std::string::npos) << r.output;
  r = run_process(journey_command("fit"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = run_process(journey_command("plan --flops 1e20"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--fit"), std::string::npos) << r.output;
  r = run_process(journey_command("plan --fit " + csv + " --flops 1e20"));
  EXPECT_EQ(r.exit_code, 1) << r.output;  // Not a fit.json.
}

}  // namespace
}  // namespace journey
