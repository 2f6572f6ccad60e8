// The schedule mathematics against the paper's numbers and its own definitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include <unistd.h>

#include "common/config.h"
#include "common/error.h"
#include "common/pruning_schedules.h"
#include "schedules/density_schedule.h"
#include "schedules/grid.h"
#include "schedules/param_count.h"
#include "schedules/phase_solver.h"
#include "schedules/run_plan.h"
#include "sweep/ledger.h"

namespace journey {
namespace {

// Jin et al. 2025, 25/50/25 phases: t_s/T, t_e/T and N-bar/P for each sparsity.
struct PaperRow {
  double sparsity, start, end, mean_density;
};
const PaperRow kPaper[] = {
    {0.2, 0.2231, 0.7211, 0.8926},
    {0.4, 0.1915, 0.6808, 0.7662},
    {0.6, 0.1526, 0.6186, 0.6103},
    {0.8, 0.0998, 0.5012, 0.3991},
};

TEST(PhaseSolver, ClosedFormMatchesPaper) {
  for (const PaperRow& row : kPaper) {
    PhaseFractions f = solve_compute_phases(ScheduleKind::kGeometric, row.sparsity, 0.25, 0.75);
    EXPECT_NEAR(f.start, row.start, 5e-5) << "S=" << row.sparsity;
    EXPECT_NEAR(f.end, row.end, 5e-5) << "S=" << row.sparsity;
    EXPECT_NEAR(f.mean_density, row.mean_density, 5e-5) << "S=" << row.sparsity;
  }
}

RunConfig paper_run(double sparsity, int64_t steps, int64_t interval) {
  RunConfig c;
  c.train.batch_tokens = c.model.seq_len;
  c.train.tokens = steps * c.train.batch_tokens;
  c.prune.sparsity = sparsity;
  c.prune.interval = interval;
  return c;
}

TEST(RunPlan, DiscreteScheduleMatchesPaperWithinDeltaRounding) {
  for (const PaperRow& row : kPaper) {
    RunPlan plan = make_plan(paper_run(row.sparsity, 100000, 100));
    const double T = static_cast<double>(plan.total_steps);
    EXPECT_NEAR(plan.schedule.start_step() / T, row.start, 0.002) << "S=" << row.sparsity;
    EXPECT_NEAR(plan.schedule.end_step() / T, row.end, 0.002) << "S=" << row.sparsity;
    EXPECT_NEAR(plan.mean_active / plan.params.prunable, row.mean_density, 0.002)
        << "S=" << row.sparsity;
    EXPECT_NEAR(plan.dense_compute_frac, 0.25, 0.002);
    EXPECT_NEAR(plan.dense_compute_frac + plan.pruning_compute_frac, 0.75, 0.002);
  }
}

// Each table entry of common/pruning_schedules.h is whole: its name parses back to it, and
// its g(S) is the mean keep fraction of its own events over a long pruning phase (what the
// phase solver assumes about the events DensitySchedule makes).
TEST(PruningSchedules, EveryEntryParsesBackAndItsMeanDensityIsItsEventsMean) {
  ASSERT_GE(pruning_schedules().size(), 2u);
  for (const PruningSchedule& entry : pruning_schedules()) {
    EXPECT_EQ(parse_schedule_kind("prune.schedule", entry.name), entry.kind);
    EXPECT_STREQ(schedule_name(entry.kind), entry.name);
    EXPECT_EQ(&pruning_schedule(entry.kind), &entry);
    for (double sparsity : {0.3, 0.5, 0.8, 0.95}) {
      const int64_t events = 20000;
      const DensitySchedule schedule(entry.kind, sparsity, 0, events - 1, 1, events);
      double sum = 0;
      for (int64_t step = 0; step < events; ++step) sum += schedule.keep_at(step);
      EXPECT_NEAR(sum / events, mean_pruning_density(entry.kind, sparsity), 2e-4)
          << entry.name << " S=" << sparsity;
    }
  }
  EXPECT_THROW(pruning_schedule(ScheduleKind::kDense), std::invalid_argument);
  try {
    parse_schedule_kind("prune.schedule", "linear");
    ADD_FAILURE() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("prune.schedule = linear is invalid: must be " +
                                         pruning_schedule_names()),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(pruning_schedule_names(), "geometric or cubic");
}

TEST(DensitySchedule, GeometricEventsFollowTheDefinition) {
  const double S = 0.6;
  DensitySchedule s(ScheduleKind::kGeometric, S, 100, 400, 50, 1000);
  const int64_t K = (400 - 100) / 50 + 1;
  ASSERT_EQ(static_cast<int64_t>(s.events().size()), K);
  for (int64_t j = 1; j <= K; ++j) {
    const PruneEvent& e = s.events()[j - 1];
    EXPECT_EQ(e.step, 100 + (j - 1) * 50);
    EXPECT_DOUBLE_EQ(e.keep, std::pow(1 - S, static_cast<double>(j) / K));
  }
  EXPECT_EQ(s.events().back().keep, 1 - S);  // Exactly.
  EXPECT_EQ(s.keep_at(99), 1.0);
  EXPECT_EQ(s.keep_at(100), s.events()[0].keep);
  EXPECT_EQ(s.keep_at(999), 1 - S);
  EXPECT_NE(s.event_at(150), nullptr);
  EXPECT_EQ(s.event_at(151), nullptr);
}

TEST(DensitySchedule, CubicEventsFollowZhuGupta) {
  const double S = 0.8;
  DensitySchedule s(ScheduleKind::kCubic, S, 0, 100, 10, 200);
  ASSERT_EQ(s.events().size(), 11u);
  EXPECT_EQ(s.events().front().keep, 1.0);  // Zhu & Gupta start from the initial sparsity 0.
  EXPECT_DOUBLE_EQ(s.events()[5].keep, 1 - S * (1 - std::pow(0.5, 3)));
  EXPECT_EQ(s.events().back().keep, 1 - S);
}

TEST(DensitySchedule, DensityNeverIncreasesAndEndsAtOneMinusS) {
  for (ScheduleKind kind : {ScheduleKind::kGeometric, ScheduleKind::kCubic}) {
    for (double S : {0.2, 0.5, 0.8, 0.95}) {
      RunConfig c = paper_run(S, 997, 0);
      c.prune.schedule = kind;
      RunPlan plan = make_plan(c);
      double last = 1.0;
      for (int64_t t = 0; t < plan.total_steps; ++t) {
        EXPECT_LE(plan.schedule.keep_at(t), last);
        last = plan.schedule.keep_at(t);
        if (t > 0) {
          EXPECT_LE(plan.active[t], plan.active[t - 1]);
        }
      }
      EXPECT_EQ(plan.schedule.keep_at(plan.total_steps - 1), 1 - S);
      EXPECT_EQ(plan.final_active, kept_count(1 - S, plan.params.prunable));
    }
  }
}

TEST(RunPlan, CubicSolverMatchesDiscreteSchedule) {
  RunConfig c = paper_run(0.6, 100000, 100);
  c.prune.schedule = ScheduleKind::kCubic;
  RunPlan plan = make_plan(c);
  PhaseFractions f = solve_compute_phases(ScheduleKind::kCubic, 0.6, 0.25, 0.75);
  EXPECT_NEAR(plan.mean_active / plan.params.prunable, f.mean_density, 0.002);
  EXPECT_NEAR(plan.dense_compute_frac, 0.25, 0.002);
  EXPECT_NEAR(plan.recovery_compute_frac, 0.25, 0.002);
}

TEST(RunPlan, MeanActiveIsTheExactAverageOfNt) {
  RunPlan plan = make_plan(paper_run(0.5, 333, 7));
  long double sum = 0;
  for (int64_t n : plan.active) sum += n;
  EXPECT_DOUBLE_EQ(plan.mean_active, static_cast<double>(sum / plan.total_steps));
  EXPECT_DOUBLE_EQ(plan.compute, 6.0 * static_cast<double>(sum) * plan.tokens_per_step);
  EXPECT_EQ((plan.schedule.end_step() - plan.schedule.start_step()) % 7, 0);
}

TEST(RunPlan, PerLayerScopeKeepsFloorOfEachMatrix) {
  RunConfig c = paper_run(0.5, 100, 10);
  c.prune.scope = PruneScope::kLayer;
  RunPlan plan = make_plan(c);
  int64_t expected = 0;
  for (int64_t n : plan.prunable_numels) expected += kept_count(0.5, n);
  EXPECT_EQ(plan.final_active, expected);
}

TEST(RunPlan, StepPhaseUnitsAndExplicitBoundaries) {
  RunConfig c = paper_run(0.5, 1000, 10);
  c.prune.phase_units = PhaseUnits::kSteps;
  RunPlan plan = make_plan(c);
  EXPECT_EQ(plan.schedule.start_step(), 250);
  EXPECT_EQ(plan.schedule.end_step(), 750);

  c.prune.start_step = 100;
  c.prune.end_step = 300;
  plan = make_plan(c);
  EXPECT_EQ(plan.schedule.start_step(), 100);
  EXPECT_EQ(plan.schedule.end_step(), 300);
  EXPECT_EQ(plan.schedule.events().size(), 21u);

  c.prune.end_step = 305;  // Delta = 10 does not divide 205.
  EXPECT_THROW(make_plan(c), UsageError);
  c.prune.end_step = 1000;  // Past the last step.
  EXPECT_THROW(make_plan(c), UsageError);
}

TEST(RunPlan, PruningUntilTheEndStaysInsideTheRun) {
  RunConfig c = paper_run(0.8, 500, 0);
  c.prune.dense_frac = 0.0;
  c.prune.prune_end_frac = 1.0;
  RunPlan plan = make_plan(c);
  EXPECT_EQ(plan.schedule.start_step(), 0);
  EXPECT_LE(plan.schedule.end_step(), plan.total_steps - 1);
  EXPECT_EQ(plan.final_active, kept_count(0.2, plan.params.prunable));
}

TEST(RunPlan, TooFewTokensIsAUsageError) {
  RunConfig c;
  c.train.tokens = c.train.batch_tokens / 4;
  EXPECT_THROW(make_plan(c), UsageError);
}

TEST(RunPlan, TooManyStepsIsAUsageErrorNotAnAllocationFailure) {
  RunConfig c;
  c.train.tokens_per_param = 1e30;
  try {
    make_plan(c);
    FAIL() << "no error for 1e30 tokens per parameter";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 1e9 steps"), std::string::npos) << e.what();
  }
}

TEST(RunPlan, IntervalWiderThanThePruningSpanIsAUsageError) {
  // 25/50/25 of 1000 steps at S=0.8 prunes over about 400 steps; Delta = 1000 would collapse
  // the schedule to one event at step 0.
  EXPECT_NO_THROW(make_plan(paper_run(0.8, 1000, 100)));
  try {
    make_plan(paper_run(0.8, 1000, 1000));
    FAIL() << "no error for prune.interval = 1000";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("prune.interval = 1000"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("at most the pruning span"), std::string::npos)
        << e.what();
  }
}

// S = 0.9999999 once trained to the end and reported "done" with every weight pruned.
TEST(RunPlan, ASparsityThatEmptiesAMatrixIsAUsageError) {
  const RunPlan plan = make_plan(paper_run(0.8, 1000, 0));
  const int64_t smallest =
      *std::min_element(plan.prunable_numels.begin(), plan.prunable_numels.end());
  EXPECT_NO_THROW(make_plan(paper_run(1.0 - 1.0 / smallest, 1000, 0)));
  for (double s : {0.9999999, 1.0 - 0.5 / smallest}) {
    try {
      make_plan(paper_run(s, 1000, 0));
      FAIL() << "no error for sparsity " << s;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("prune.sparsity"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("less than one weight"), std::string::npos) << e.what();
    }
  }
}

// Rounding moves the phases most at high sparsity in short runs: beyond 0.02 of compute the
// plan says so (S >= 0.95 once changed the 25/50/25 split silently).
TEST(RunPlan, PhasesThatMoveBeyondTwoPercentOfComputeAreWarnedAbout) {
  const RunPlan usual = make_plan(paper_run(0.8, 100000, 100));
  EXPECT_TRUE(usual.warnings.empty());
  bool warned = false;
  for (double s : {0.95, 0.97, 0.99}) {
    const RunPlan plan = make_plan(paper_run(s, 800, 8));
    const double worst = std::max({std::fabs(plan.dense_compute_frac - 0.25),
                                   std::fabs(plan.pruning_compute_frac - 0.5),
                                   std::fabs(plan.recovery_compute_frac - 0.25)});
    EXPECT_EQ(!plan.warnings.empty(), worst > kPhaseTolerance) << s;
    if (!plan.warnings.empty()) {
      warned = true;
      EXPECT_NE(plan.warnings[0].find("not the requested 25.0/50.0/25.0 %"), std::string::npos)
          << plan.warnings[0];
    }
  }
  EXPECT_TRUE(warned) << "no short high-sparsity run drifted: the test needs another example";
}

// configs/paper.ini reproduces the schedules of the authors' released sparse runs, as their
// model cards list them (huggingface.co/tjingrant/sparsellm-1b-{20p,60p-small-dense,80p}:
// "Training Steps", "Pruning Start Step", "Pruning End Step"; pruning every 100 steps, both
// ends included, as in the authors' MaxText train.py).
TEST(RunPlan, PaperPresetMatchesTheReleasedRunsModelCards) {
  struct Card {
    double sparsity;
    int64_t steps, start, end;
  };
  for (const Card& card : {Card{0.2, 11200, 2500, 8100}, Card{0.6, 16375, 2500, 10100},
                           Card{0.8, 25050, 2500, 12600}}) {
    RunConfig c = parse_config(JOURNEY_SOURCE_DIR "/configs/paper.ini", {});
    c.train.tokens = card.steps * c.train.batch_tokens;
    c.prune.sparsity = card.sparsity;
    const RunPlan plan = make_plan(c);
    EXPECT_EQ(plan.total_steps, card.steps);
    EXPECT_EQ(plan.schedule.interval(), 100);
    EXPECT_EQ(plan.schedule.start_step(), card.start) << "S=" << card.sparsity;
    EXPECT_EQ(plan.schedule.end_step(), card.end) << "S=" << card.sparsity;
    EXPECT_EQ(static_cast<int64_t>(plan.schedule.events().size()),
              (card.end - card.start) / 100 + 1);
    EXPECT_NEAR(plan.schedule.events().back().keep, 1 - card.sparsity, 1e-12);
  }
}

TEST(RunPlan, DenseRunHasNoEvents) {
  RunPlan plan = make_plan(paper_run(0.0, 50, 0));
  EXPECT_TRUE(plan.schedule.events().empty());
  EXPECT_EQ(plan.mean_active, plan.params.prunable);
  EXPECT_DOUBLE_EQ(plan.dense_compute_frac, 1.0);
}

// The paper's three models: (d 512, 6 layers), (768, 12), (1024, 24), vocab 32000.
TEST(ParamCount, ReproducesThePaperExactly) {
  struct Row {
    int64_t d, layers;
    double total_millions, prunable_millions;
  };
  const Row rows[] = {
      {512, 6, 57.93, 41.55}, {768, 12, 162.40, 137.82}, {1024, 24, 468.19, 435.42}};
  for (const Row& r : rows) {
    ModelConfig m;
    m.d_model = r.d;
    m.n_layers = r.layers;
    m.n_heads = 8;
    ParamCounts p = count_params(m, 32000);
    EXPECT_DOUBLE_EQ(std::round(p.total() / 1e4) / 100, r.total_millions) << p.total();
    EXPECT_DOUBLE_EQ(std::round(p.prunable / 1e4) / 100, r.prunable_millions) << p.prunable;
    EXPECT_EQ(p.prunable, r.layers * 16 * r.d * r.d + 32000 * r.d);
    EXPECT_EQ(p.embedding, 32000 * r.d);
  }
}

RunConfig small_sweep() {
  RunConfig c;
  c.train.batch_tokens = c.model.seq_len * 4;
  c.sweep.sizes = "64x2x2 128x2x4";
  c.sweep.sparsities = "0 0.5 0.8";
  c.sweep.phases = "0.25:0.75 0:1";
  c.sweep.tokens_per_param = "1 2";
  c.sweep.seeds = "0";
  return c;
}

TEST(Grid, CartesianProductWithDenseCellsCollapsed) {
  std::vector<Cell> cells = expand_grid(small_sweep());
  // 2 sizes x 2 durations x (1 dense + 2 sparsities x 2 phases).
  EXPECT_EQ(cells.size(), 2u * 2u * (1u + 2u * 2u));
  std::set<std::string> ids;
  for (const Cell& cell : cells) {
    EXPECT_TRUE(ids.insert(cell.id).second) << "duplicate " << cell.id;
    EXPECT_GT(cell.estimated_flops, 0);
    EXPECT_NO_THROW(validate(cell.config));
  }
  EXPECT_TRUE(ids.count("64x2x2-dense-tpp1-seed0"));
  EXPECT_TRUE(ids.count("128x2x4-sp0.8-geometric-p25-75-tpp2-seed0"));
  EXPECT_TRUE(ids.count("128x2x4-sp0.5-geometric-p0-100-tpp1-seed0"));
}

// A duration too short for one batch is refused naming the cell and the [sweep] key that
// set it, not only the train.* keys of a single run.
TEST(Grid, ACellTooShortForOneBatchIsNamedWithItsSweepKey) {
  RunConfig c = small_sweep();
  c.sweep.tokens_per_param = "1e-6";
  try {
    expand_grid(c);
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("cell 64x2x2-dense-tpp1e-06-seed0: config gives ", 0), 0u) << what;
    EXPECT_NE(what.find("less than one batch"), std::string::npos) << what;
    EXPECT_NE(what.find("(its values come from sweep.tokens_per_param)"), std::string::npos)
        << what;
  }
}

TEST(Grid, SameConfigGivesSameIdsAndCellConfigs) {
  std::vector<Cell> a = expand_grid(small_sweep());
  std::vector<Cell> b = expand_grid(small_sweep());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(to_ini(a[i].config), to_ini(b[i].config));
  }
}

TEST(Grid, CellConfigCarriesItsAxes) {
  for (const Cell& cell : expand_grid(small_sweep())) {
    if (cell.id == "128x2x4-sp0.8-geometric-p0-100-tpp2-seed0") {
      EXPECT_EQ(cell.config.model.d_model, 128);
      EXPECT_EQ(cell.config.model.n_heads, 4);
      EXPECT_DOUBLE_EQ(cell.config.prune.sparsity, 0.8);
      EXPECT_DOUBLE_EQ(cell.config.prune.dense_frac, 0.0);
      EXPECT_DOUBLE_EQ(cell.config.prune.prune_end_frac, 1.0);
      EXPECT_DOUBLE_EQ(cell.config.train.tokens_per_param, 2.0);
      return;
    }
  }
  FAIL() << "cell not found";
}

TEST(Grid, LargerModelsCostMore) {
  std::vector<Cell> cells = expand_grid(small_sweep());
  double small = 0, large = 0;
  for (const Cell& c : cells) {
    if (c.id == "64x2x2-dense-tpp1-seed0") small = c.estimated_flops;
    if (c.id == "128x2x4-dense-tpp1-seed0") large = c.estimated_flops;
  }
  EXPECT_GT(large, 2 * small);
}

}  // namespace
}  // namespace journey

namespace journey {
namespace {

TEST(Grid, MatchedDenseCellsHaveTheSparseRunsNbarAndTokens) {
  RunConfig c = small_sweep();
  c.sweep.sizes = "128x2x4";
  c.sweep.phases = "0.25:0.75";
  c.sweep.matched_dense = true;
  std::vector<Cell> cells = expand_grid(c);
  int matched = 0;
  for (const Cell& sparse : cells) {
    if (sparse.config.prune.sparsity == 0.0 || sparse.id.rfind("match-", 0) == 0) continue;
    const Cell* match = nullptr;
    for (const Cell& other : cells) {
      if (other.id == "match-" + sparse.id) match = &other;
    }
    ASSERT_NE(match, nullptr) << sparse.id;
    const RunPlan sparse_plan = make_plan(sparse.config), dense_plan = make_plan(match->config);
    EXPECT_EQ(match->config.prune.sparsity, 0.0);
    EXPECT_EQ(dense_plan.total_tokens, sparse_plan.total_tokens);
    EXPECT_EQ(match->config.model.n_layers, sparse.config.model.n_layers);
    const double tolerance = 3.0 * match->config.model.n_layers * match->config.model.d_model;
    EXPECT_NEAR(dense_plan.mean_active, sparse_plan.mean_active, tolerance) << match->id;
    EXPECT_NO_THROW(validate(match->config));
    ++matched;
  }
  EXPECT_EQ(matched, 2 * 2);  // 2 sparsities x 2 durations.
  EXPECT_EQ(cells.size(), 2u * 3u + 4u);
}

// A twin is a size of its own: with a per-size lr list its rate is the list's, interpolated
// in log lr against log N between the listed sizes around it (the nearest listed size's
// outside them), not its sparse parent's.
TEST(Grid, MatchedTwinsTakeTheListedLrOfTheirOwnSize) {
  RunConfig c =
      parse_config("", {"--sweep.sizes=64x2x2 128x2x4", "--sweep.sparsities=0 0.5",
                        "--sweep.lr=64x2x2:4e-3 128x2x4:1e-3", "--sweep.matched_dense=true"});
  validate(c);
  const auto prunable = [&](const ModelConfig& m) {
    return static_cast<double>(count_params(m, c.data.vocab_size).prunable);
  };
  ModelConfig small = c.model, large = c.model;
  small.d_model = 64, small.n_layers = 2, small.n_heads = 2;
  large.d_model = 128, large.n_layers = 2, large.n_heads = 4;
  const double n_small = prunable(small), n_large = prunable(large);
  int twins = 0;
  for (const Cell& cell : expand_grid(c)) {
    if (cell.id.rfind("match-", 0) != 0) continue;
    ++twins;
    const double n = prunable(cell.config.model);
    if (n <= n_small) {
      EXPECT_DOUBLE_EQ(cell.config.train.lr, 4e-3) << cell.id;
      continue;
    }
    ASSERT_LT(n, n_large) << cell.id;
    const double t = std::log(n / n_small) / std::log(n_large / n_small);
    EXPECT_NEAR(cell.config.train.lr, 4e-3 * std::pow(1e-3 / 4e-3, t), 1e-12) << cell.id;
    EXPECT_GT(cell.config.train.lr, 1e-3) << cell.id;  // Not its 128x2x4 parent's rate.
    EXPECT_LT(cell.config.train.lr, 4e-3) << cell.id;
  }
  EXPECT_EQ(twins, 2);
}

// One lr and one batch for every size confounds the size and data exponents; sweep.lr and
// sweep.batch_tokens set them per size, or the lr as a power law in N.
TEST(Grid, PerSizeLearningRatesAndBatches) {
  RunConfig c = parse_config("", {"--sweep.sizes=64x2x2 128x2x4", "--sweep.sparsities=0 0.5",
                                  "--sweep.lr=64x2x2:3e-3 128x2x4:1.5e-3",
                                  "--sweep.batch_tokens=64x2x2:4096 128x2x4:8192"});
  validate(c);
  for (const Cell& cell : expand_grid(c)) {
    const bool small = cell.config.model.d_model == 64;
    EXPECT_DOUBLE_EQ(cell.config.train.lr, small ? 3e-3 : 1.5e-3) << cell.id;
    EXPECT_EQ(cell.config.train.batch_tokens, small ? 4096 : 8192) << cell.id;
  }
  c.sweep.lr = "0.5*N^-0.35";
  c.sweep.batch_tokens = "";
  validate(c);
  for (const Cell& cell : expand_grid(c)) {
    const double n = static_cast<double>(count_params(cell.config.model, 2048).prunable);
    EXPECT_NEAR(cell.config.train.lr, 0.5 * std::pow(n, -0.35), 1e-15) << cell.id;
  }
  for (const auto& [key, value, words] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"lr", "64x2x2:3e-3", "128x2x4 has none"},
           {"lr", "64x2x2:3e-3 128x2x4:1e-3 256x2x4:1e-3", "not one of sweep.sizes"},
           {"lr", "64x2x2=3e-3", "SIZE:VALUE"},
           {"lr", "64x2x2:-1 128x2x4:1e-3", "(0, 10)"},
           {"lr", "-0.5*N^-0.3", "coefficient must be positive"},
           {"batch_tokens", "64x2x2:1000 128x2x4:2048", "multiple of model.seq_len"}}) {
    RunConfig bad =
        parse_config("", {"--sweep.sizes=64x2x2 128x2x4", "--sweep." + key + "=" + value});
    try {
      validate(bad);
      FAIL() << key << " = " << value;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("sweep." + key), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  }
}

// sweep.lrs makes the lr a grid axis: each (size, rate) is its own cells, ids ending in
// "-lr<rate>" only then, so the ids of sweeps without it stay as they were.
TEST(Grid, LearningRateAxisGivesEachRateItsOwnCells) {
  RunConfig c = parse_config("", {"--sweep.sizes=64x2x2 128x2x4", "--sweep.sparsities=0 0.5"});
  validate(c);
  std::set<std::string> plain;
  for (const Cell& cell : expand_grid(c)) plain.insert(cell.id);
  EXPECT_EQ(plain.size(), 4u);
  EXPECT_EQ(plain.count("64x2x2-dense-tpp20-seed0"), 1u);

  c.sweep.lrs = "3e-3 1.2e-2";  // Every size at both rates.
  validate(c);
  std::vector<Cell> cells = expand_grid(c);
  ASSERT_EQ(cells.size(), 8u);
  std::map<std::string, std::set<double>> rates;
  for (const Cell& cell : cells) {
    rates[size_name(cell.config.model)].insert(cell.config.train.lr);
    const std::string suffix = cell.config.train.lr == 3e-3 ? "-lr0.003" : "-lr0.012";
    ASSERT_GT(cell.id.size(), suffix.size());
    EXPECT_EQ(cell.id.substr(cell.id.size() - suffix.size()), suffix) << cell.id;
    EXPECT_EQ(plain.count(cell.id.substr(0, cell.id.size() - suffix.size())), 1u) << cell.id;
  }
  EXPECT_EQ(rates["64x2x2"], (std::set<double>{3e-3, 1.2e-2}));
  EXPECT_EQ(rates["128x2x4"], (std::set<double>{3e-3, 1.2e-2}));
  const auto has = [&](const std::string& id) {
    return std::any_of(cells.begin(), cells.end(), [&](const Cell& x) { return x.id == id; });
  };
  EXPECT_TRUE(has("64x2x2-dense-tpp20-seed0-lr0.003"));
  EXPECT_TRUE(has("128x2x4-sp0.5-geometric-p25-75-tpp20-seed0-lr0.012"));

  c.sweep.lrs = "64x2x2:6e-3,1.2e-2 128x2x4:3e-3";  // Per size, like sweep.lr.
  validate(c);
  cells = expand_grid(c);
  ASSERT_EQ(cells.size(), 6u);
  rates.clear();
  for (const Cell& cell : cells) rates[size_name(cell.config.model)].insert(cell.config.train.lr);
  EXPECT_EQ(rates["64x2x2"], (std::set<double>{6e-3, 1.2e-2}));
  EXPECT_EQ(rates["128x2x4"], (std::set<double>{3e-3}));
  EXPECT_TRUE(has("64x2x2-dense-tpp20-seed0-lr0.006"));
  EXPECT_TRUE(has("128x2x4-dense-tpp20-seed0-lr0.003"));

  // Without sweep.sizes the rates apply to the base model.
  RunConfig one = parse_config("", {"--sweep.lrs=1e-3,2e-3"});
  validate(one);
  cells = expand_grid(one);
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0].id, "128x2x4-dense-tpp20-seed0-lr0.001");
  EXPECT_EQ(cells[1].id, "128x2x4-dense-tpp20-seed0-lr0.002");
  EXPECT_DOUBLE_EQ(cells[1].config.train.lr, 2e-3);
}

// A dense twin per sparse cell, at that cell's rate.
TEST(Grid, LearningRateAxisGivesATwinPerRate) {
  RunConfig c = parse_config("", {"--sweep.sizes=64x2x2 128x2x4", "--sweep.sparsities=0 0.5",
                                  "--sweep.lrs=3e-3 6e-3", "--sweep.matched_dense=true"});
  validate(c);
  const std::vector<Cell> cells = expand_grid(c);
  int twins = 0;
  for (const Cell& sparse : cells) {
    if (sparse.config.prune.sparsity == 0.0) continue;
    const auto match = std::find_if(cells.begin(), cells.end(),
                                    [&](const Cell& x) { return x.id == "match-" + sparse.id; });
    ASSERT_NE(match, cells.end()) << sparse.id;
    EXPECT_EQ(match->config.train.lr, sparse.config.train.lr) << match->id;
    ++twins;
  }
  EXPECT_EQ(twins, 4);  // 2 sizes x 2 rates.
  EXPECT_EQ(cells.size(), 8u + 4u);
}

// Adding a rate adds cells and changes none: a sweep directory grows by it (sweep/ledger.h).
TEST(Grid, AddingARateOnlyAddsCells) {
  RunConfig c = parse_config(
      "", {"--sweep.sizes=64x2x2 128x2x4", "--sweep.sparsities=0 0.5", "--sweep.lrs=3e-3"});
  std::map<std::string, std::string> before;
  for (const Cell& cell : expand_grid(c)) before[cell.id] = to_ini(cell.config);
  c.sweep.lrs = "3e-3 6e-3";
  std::map<std::string, std::string> after;
  for (const Cell& cell : expand_grid(c)) after[cell.id] = to_ini(cell.config);
  EXPECT_EQ(after.size(), 2 * before.size());
  for (const auto& [id, ini] : before) {
    ASSERT_EQ(after.count(id), 1u) << id;
    RunConfig a = parse_config_text(ini, id), b = parse_config_text(after.at(id), id);
    a.sweep = b.sweep = SweepConfig();  // A cell's result does not depend on [sweep].
    EXPECT_EQ(to_ini(a), to_ini(b)) << id;
  }
}

// The sweep's fit selects each size's best rate once some size has done cells at two rates.
TEST(Grid, SizesWithSeveralRatesAreTheSweepsLrSelection) {
  const std::string dir = ::testing::TempDir() + "journey-lrs-ledger-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  RunConfig c = parse_config(
      "", {"--sweep.sizes=64x2x2 128x2x4", "--sweep.lrs=64x2x2:3e-3,6e-3 128x2x4:1e-3,2e-3"});
  const std::vector<Cell> cells = expand_grid(c);
  ASSERT_EQ(cells.size(), 4u);
  Ledger ledger = Ledger::open_or_create(dir, "identity", cells);
  EXPECT_TRUE(sizes_with_several_rates(ledger).empty());
  for (const Cell& cell : cells) {
    if (cell.config.train.lr != 2e-3) ledger.at(cell.id).status = CellStatus::kDone;
  }
  EXPECT_EQ(sizes_with_several_rates(ledger), std::vector<std::string>{"64x2x2"});
  ledger.at(cells[3].id).status = CellStatus::kDone;
  EXPECT_EQ(sizes_with_several_rates(ledger), (std::vector<std::string>{"64x2x2", "128x2x4"}));
  std::filesystem::remove_all(dir);
}

TEST(Grid, LearningRateAxisErrors) {
  for (const auto& [overrides, words] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--sweep.lr=64x2x2:3e-3 128x2x4:1e-3", "--sweep.lrs=1e-3 2e-3"}, "sweep.lr = "},
           {{"--sweep.lr=0.3*N^-0.35", "--sweep.lrs=1e-3"}, "cannot both be set"},
           {{"--sweep.lrs=64x2x2:3e-3"}, "128x2x4 has none"},
           {{"--sweep.lrs=64x2x2: 128x2x4:1e-3"}, "at least one rate"},
           {{"--sweep.lrs=1e-3 64x2x2:1e-3 128x2x4:1e-3"}, "a rate before any SIZE"},
           {{"--sweep.lrs=64x2x2:1e-3,1e-3 128x2x4:1e-3"}, "listed twice"},
           {{"--sweep.lrs=64x2x2:1e-3,20 128x2x4:1e-3"}, "(0, 10)"},
           {{"--sweep.lrs=64x2x2=1e-3"}, "not a number"},
           {{"--sweep.lrs=256x2x4:1e-3 64x2x2:1e-3 128x2x4:1e-3"}, "not one of sweep.sizes"},
           {{"--sweep.lrs=1e-3 2e-3", "--sweep.sparsities=0.5 0.8"}, "dense cells"},
           {{"--sweep.lrs=64x2x2:1e-3,2e-3 128x2x4:1e-3", "--sweep.sparsities=0.5"},
            "dense cells"}}) {
    std::vector<std::string> flags{"--sweep.sizes=64x2x2 128x2x4"};
    flags.insert(flags.end(), overrides.begin(), overrides.end());
    try {
      validate(parse_config("", flags));
      FAIL() << overrides.back();
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("sweep.lrs"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  }
  // One rate per size needs no dense cells: nothing is chosen.
  EXPECT_NO_THROW(validate(parse_config(
      "", {"--sweep.sizes=64x2x2 128x2x4", "--sweep.lrs=1e-3", "--sweep.sparsities=0.5"})));
}

TEST(Grid, SizeNameShowsANonStandardFfnWidth) {
  ModelConfig m;
  m.d_model = 96;
  m.n_layers = 2;
  m.n_heads = 4;
  EXPECT_EQ(size_name(m), "96x2x4");
  m.ffn_dim = 300;
  EXPECT_EQ(size_name(m), "96x2x4f300");
}

}  // namespace
}  // namespace journey
