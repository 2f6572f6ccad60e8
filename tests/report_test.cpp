// `journey report` (suites Report*): the report of synthetic sweep directories written here
// (CI has no real sweep to read), with a failed cell, a schedule grid and too few done cells;
// the page in headless Chromium; and the parts the figures rest on (cumulative compute,
// SVG id scoping, the equal-compute reference, the schedule grid).
//
// A synthetic sweep is laid out like coordinator/'s (docs/results-format.md): the ledger
// through sweep/ledger.h, results.csv, sweep.ini and per cell config.ini, metrics.csv
// and eval.csv. The schedule, N-bar and compute of each cell come from its config
// (schedules/run_plan.h make_plan), the final loss from a Chinchilla-like formula of N-bar
// and D with a small deterministic wobble, so the fit has something real to fit.
#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "report/equal_compute.h"
#include "report/figures.h"
#include "report/fit_summary.h"
#include "report/gnuplot.h"
#include "report/plot_style.h"
#include "report/report_content.h"
#include "report/schedule_grid.h"
#include "report/sweep_data.h"
#include "schedules/grid.h"
#include "schedules/run_plan.h"
#include "sweep/ledger.h"
#include "sweep/results_table.h"
#include "tests/subprocess.h"
#include "tests/test_files.h"

namespace fs = std::filesystem;

namespace journey {
namespace {

using testing::journey_command;
using testing::run_process;

// This process's directories (the pid keeps parallel test processes apart); removed after
// the run when every test passed and JOURNEY_KEEP_TEST_DIRS is unset, kept for inspection
// otherwise.
std::vector<std::string>& created_dirs() {
  static std::vector<std::string> dirs;
  return dirs;
}

class RemoveDirsWhenAllPassed : public ::testing::Environment {
 public:
  void TearDown() override {
    if (!::testing::UnitTest::GetInstance()->Passed() || std::getenv("JOURNEY_KEEP_TEST_DIRS")) {
      return;
    }
    for (const std::string& dir : created_dirs()) {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  }
};
::testing::Environment* const kCleanUp =
    ::testing::AddGlobalTestEnvironment(new RemoveDirsWhenAllPassed);

std::string fresh_dir(const std::string& name) {
  const std::string dir =
      ::testing::TempDir() + "journey-report-" + name + "-" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  created_dirs().push_back(dir);
  return dir;
}

using testing::read_file;

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// The HTML of <section id="ID"> ... </section>.
std::string section_html(const std::string& html, const std::string& id) {
  const size_t from = html.find("<section id=\"" + id + "\">");
  if (from == std::string::npos) return "";
  return html.substr(from, html.find("</section>", from) - from);
}

std::string html_unescape(std::string text) {
  for (const auto& [entity, c] : std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}}) {
    for (size_t at = text.find(entity); at != std::string::npos; at = text.find(entity, at + 1)) {
      text.replace(at, entity.size(), c);
    }
  }
  return text;
}

struct PngSize {
  bool valid = false;
  uint32_t width = 0, height = 0;
};

// The signature and the IHDR chunk of a PNG file.
PngSize png_size(const std::string& path) {
  const std::string bytes = read_file(path);
  PngSize size;
  if (bytes.size() < 33 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
      bytes.compare(12, 4, "IHDR") != 0) {
    return size;
  }
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  size.valid = true;
  size.width = be32(16);
  size.height = be32(20);
  return size;
}

struct SweepSpec {
  std::string sizes = "32x2x2 48x2x2 64x2x4";
  std::string sparsities = "0 0.5 0.8";
  std::string phases = "0.25:0.75";
  std::string durations = "2 4";
  std::string failed_cell;     // Left failed half-way, with a reason.
  bool matched_dense = false;  // Add a dense twin of each sparse cell's N-bar.
  std::string seeds = "0";
  std::string lr;          // train.lr; empty: the default.
  double loss_offset = 0;  // Added to every cell's loss (a worse learning rate).
  // The final loss follows N-bar and D; with `dense_size_loss`, the dense size and D instead,
  // so that `phase_penalty`, a function of (dense_frac, prune_end_frac), alone separates the
  // schedules of a grid.
  bool dense_size_loss = false;
  std::function<double(double, double)> phase_penalty = [](double, double) { return 0.0; };
};

// The base config of a synthetic sweep: the demo's shape, small.
RunConfig synthetic_config(const SweepSpec& spec) {
  std::ostringstream ini;
  ini << "[model]\nseq_len = 64\n[train]\nbatch_tokens = 2048\n"
      << (spec.lr.empty() ? "" : "lr = " + spec.lr + "\n") << "[data]\nvocab_size = 1024\n"
      << "[sweep]\nsizes = " << spec.sizes << "\nsparsities = " << spec.sparsities
      << "\nphases = " << spec.phases << "\ntokens_per_param = " << spec.durations
      << "\nmatched_dense = " << (spec.matched_dense ? "true" : "false")
      << "\nseeds = " << spec.seeds << "\n";
  RunConfig config = parse_config_text(ini.str(), "synthetic sweep");
  validate(config);
  return config;
}

// A small deterministic wobble in [-0.5, 0.5] from a cell id.
double wobble(const std::string& id) {
  return static_cast<double>(std::hash<std::string>{}(id) % 1001) / 1000.0 - 0.5;
}

double synthetic_loss(double n, double tokens) {
  return 1.8 + 40.0 / std::pow(n, 0.3) + 80.0 / std::pow(tokens, 0.3);
}

std::vector<std::string> write_synthetic_sweep(const std::string& dir, const SweepSpec& spec) {
  const RunConfig base = synthetic_config(spec);
  const std::vector<Cell> cells = expand_grid(base);
  std::ofstream(dir + "/sweep.ini") << to_ini(base);
  Ledger ledger = Ledger::open_or_create(dir, "synthetic", cells);
  std::ostringstream results;
  results.precision(10);
  results << "id,status,size,d_model,n_layers,n_heads,sparsity,schedule,dense_frac,"
             "prune_end_frac,tokens_per_param,seed,lr,n_avg,n_final,n_initial,embedding_params,"
             "tokens,compute,loss,final_train_loss,steps_done,total_steps,wall_s,tokens_per_s,"
             "group_size,attempts,reason\n";
  std::vector<std::string> ids;
  for (const Cell& cell : cells) {
    ids.push_back(cell.id);
    const RunPlan plan = make_plan(cell.config);
    const bool failed = cell.id == spec.failed_cell;
    const int64_t steps = failed ? plan.total_steps / 2 : plan.total_steps;
    const double final_loss =
        synthetic_loss(spec.dense_size_loss ? plan.params.prunable : plan.mean_active,
                       static_cast<double>(plan.total_tokens)) +
        spec.phase_penalty(cell.config.prune.dense_frac, cell.config.prune.prune_end_frac) +
        0.002 * wobble(cell.id) + spec.loss_offset;

    const std::string cell_dir = dir + "/cells/" + cell.id;
    fs::create_directories(cell_dir);
    std::ofstream(cell_dir + "/config.ini") << to_ini(cell.config);
    std::ofstream metrics(cell_dir + "/metrics.csv");
    metrics.precision(9);
    metrics << "step,loss,lr,grad_norm,active,density,tokens,flops,tokens_per_s,mfu,epoch,"
               "elapsed_s\n";
    double compute = 0;
    for (int64_t t = 0; t < steps; ++t) {
      const double progress = static_cast<double>(t + 1) / plan.total_steps;
      // A failed cell diverged: its last recorded loss is NaN, as the trainer writes it.
      const double loss = failed && t + 1 == steps
                              ? NAN
                              : final_loss + (7.4 - final_loss) * std::exp(-6 * progress) +
                                    0.01 * wobble(cell.id + std::to_string(t));
      const int64_t active = plan.active[t];
      compute += 6.0 * active * plan.tokens_per_step;
      metrics << t << ',' << loss << ",0.001,0.5," << active << ','
              << static_cast<double>(active) / plan.params.prunable << ','
              << (t + 1) * plan.tokens_per_step << ','
              << step_flops(cell.config.model, active, plan.tokens_per_step) << ",40000,0.5,0.01,"
              << 0.05 * (t + 1) << '\n';
    }
    if (!failed) {
      std::ofstream(cell_dir + "/eval.csv") << "step,eval_loss\n"
                                            << plan.total_steps << ',' << final_loss << '\n';
    }
    // Per-matrix densities after each event, as the trainer writes them: the query matrix
    // loses weights fastest, the head slowest.
    if (!plan.schedule.events().empty()) {
      std::ofstream sparsity(cell_dir + "/sparsity.csv");
      sparsity << "step,layers.0.wq,layers.0.w_up,layers.1.wq,layers.1.w_up,head\n";
      for (const PruneEvent& e : plan.schedule.events()) {
        const double q = e.keep;
        sparsity << e.step << ',' << q * q * q << ',' << q << ',' << q * q << ',' << q * 0.9 << ','
                 << std::min(1.0, q * 1.3) << '\n';
      }
    }

    CellRecord& r = ledger.at(cell.id);
    r.status = failed ? CellStatus::kFailed : CellStatus::kDone;
    r.reason = failed ? "diverged: loss is NaN at step " + std::to_string(steps) : "";
    r.attempts = 1;
    r.group = 0;
    r.group_size = 1;
    r.run.steps_done = steps;
    r.run.total_steps = plan.total_steps;
    r.run.tokens = steps * plan.tokens_per_step;
    r.run.n_avg = plan.mean_active;
    r.run.n_final = static_cast<double>(plan.final_active);
    r.run.n_initial = static_cast<double>(plan.params.prunable);
    r.run.embedding_params = static_cast<double>(plan.params.embedding);
    r.run.compute = failed ? compute : plan.compute;
    r.run.final_loss = final_loss;
    r.run.final_eval_loss = failed ? 0 : final_loss;
    r.wall_s = 0.05 * steps;
    r.run.tokens_per_s = 40000;
    results << r.id << ',' << cell_status_name(r.status) << ',' << r.size << ',' << r.d_model << ','
            << r.n_layers << ',' << r.n_heads << ',' << r.sparsity << ',' << r.schedule << ','
            << r.dense_frac << ',' << r.prune_end_frac << ',' << r.tokens_per_param << ',' << r.seed
            << ',' << r.lr << ',' << r.run.n_avg << ',' << r.run.n_final << ',' << r.run.n_initial
            << ',' << r.run.embedding_params << ',' << r.run.tokens << ',' << r.run.compute << ','
            << r.run.final_eval_loss << ',' << r.run.final_loss << ',' << r.run.steps_done << ','
            << r.run.total_steps << ',' << r.wall_s << ',' << r.run.tokens_per_s << ",1,1,"
            << r.reason << '\n';
  }
  ledger.save();
  std::ofstream(dir + "/results.csv") << results.str();
  return ids;
}

// `journey report DIR` with a short bootstrap; the result and the page.
struct ReportRun {
  testing::ProcessResult process;
  std::string html;
};

ReportRun run_report(const std::string& dir, const std::string& flags = "") {
  ReportRun run;
  run.process = run_process(journey_command("report " + dir + " --bootstrap 40 " + flags));
  run.html = read_file(dir + "/report.html");
  return run;
}

// Every figure is an inline SVG in a <figure class="plot">, with a valid PNG beside it.
void expect_figures(const std::string& dir, const std::string& html,
                    const std::vector<std::string>& names) {
  EXPECT_EQ(count_of(html, "<figure class=\"plot\""), static_cast<int>(names.size()));
  EXPECT_EQ(count_of(html, "<svg"), static_cast<int>(names.size()));
  EXPECT_FALSE(contains(html, "<?xml")) << "an SVG prologue was left inline";
  for (const std::string& name : names) {
    EXPECT_TRUE(contains(html, "<figure class=\"plot\" id=\"" + name + "\">")) << name;
    const PngSize png = png_size(dir + "/figures/" + name + ".png");
    EXPECT_TRUE(png.valid) << name;
    EXPECT_GE(png.width, 400u) << name;
    EXPECT_GE(png.height, 300u) << name;
    EXPECT_GT(fs::file_size(dir + "/figures/" + name + ".png"), 10000u) << name;
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir + "/figures"), fs::directory_iterator()),
            static_cast<long>(names.size()));
  // Inline SVGs must not share ids (gnuplot names its canvas and markers the same in every
  // figure).
  static const std::regex id_re(R"(\sid=["']([^"']+)["'])");
  std::set<std::string> ids;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), id_re);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(ids.insert((*it)[1].str()).second) << "duplicate id " << (*it)[1].str();
  }
}

const std::vector<std::string> kPlainSweepFigures = {
    "fig1-journey",       "fig2-losses",    "fig3-collapse", "fig4-predicted",
    "fig6-equal-compute", "fig8-residuals", "fig9-frontier", "fig10-matrix-sparsity"};

// A fresh synthetic sweep of one size, dense and 50 % sparse, at 2 tokens per parameter:
// enough for tests of the page itself, not for a fit.
std::string small_sweep(const std::string& name) {
  const std::string dir = fresh_dir(name);
  SweepSpec spec;
  spec.sizes = "32x2x2";
  spec.sparsities = "0 0.5";
  spec.durations = "2";
  write_synthetic_sweep(dir, spec);
  return dir;
}

// The plain sweep (3 sizes x 3 sparsities x 2 durations) with one failed cell, reported once
// per test process: the Report tests below read it.
struct FailedSweep {
  std::string dir, failed;
  ReportRun run;
};

const FailedSweep& failed_sweep() {
  static const FailedSweep sweep = [] {
    FailedSweep s;
    s.dir = fresh_dir("failed");
    SweepSpec spec;
    s.failed = spec.failed_cell = "48x2x2-sp0.5-geometric-p25-75-tpp4-seed0";
    write_synthetic_sweep(s.dir, spec);
    s.run = run_report(s.dir);
    return s;
  }();
  return sweep;
}

TEST(Report, SweepWithAFailedCellGivesAReportThatMarksIt) {
  const FailedSweep& s = failed_sweep();
  ASSERT_EQ(s.run.process.exit_code, 0) << s.run.process.output;
  expect_figures(s.dir, s.run.html, kPlainSweepFigures);
  // Named with its status and reason, in a marked row, and in the stdout summary.
  EXPECT_TRUE(contains(s.run.html, "<tr class=\"failed\"><td>" + s.failed +
                                       "</td><td>failed</td>"
                                       "<td>diverged: loss is NaN at step 168</td>"))
      << s.run.html.substr(0, 4000);
  EXPECT_TRUE(contains(s.run.process.output, "not done: " + s.failed + " failed at step 168/336"))
      << s.run.process.output;
  EXPECT_TRUE(contains(s.run.process.output, "18 cells: 17 done, 1 failed"))
      << s.run.process.output;
  // Its partial loss curve ends in a hollow circle at its last finite loss (gnuplot's pt 6,
  // drawn as a use of gpPt5), which the key explains: two such uses, the key's and the curve's.
  EXPECT_TRUE(contains(s.run.html, "stopped (not done)"));
  EXPECT_EQ(count_of(s.run.html, "href='#fig2_losses-gpPt5' transform="), 2);
  // The fit was computed here, from the 17 done cells only.
  const std::string fit = read_file(s.dir + "/fit.json");
  EXPECT_TRUE(contains(fit, "\"runs\": 17")) << fit.substr(0, 400);
  EXPECT_TRUE(contains(fit, "\"skipped\": 1"));
  EXPECT_TRUE(fs::exists(s.dir + "/fit.csv"));
  EXPECT_TRUE(contains(s.run.process.output, "computed now"));
  // Not a schedule sweep: the section says so instead of drawing a grid.
  EXPECT_TRUE(contains(s.run.html, "Not a schedule sweep"));
  // Section 11 holds the coefficient table with intervals and a plan for three budgets.
  EXPECT_TRUE(contains(s.run.html, "<th>95% CI low</th>"));
  EXPECT_EQ(count_of(s.run.html, "<td>chinchilla N=avg</td><td>alpha</td>"), 1);
  EXPECT_TRUE(contains(s.run.html, "<th>budget C (FLOP)</th>"));
  // 17 short runs are said to be a smoke test, first thing, with the way to a real study.
  EXPECT_TRUE(contains(s.run.html,
                       "<p class=\"warning\">This sweep is a smoke test, not a study: "
                       "17 finished runs at 2-4 tokens per parameter"))
      << s.run.html.substr(0, 3000);
  EXPECT_TRUE(contains(s.run.html, "configs/cpu-replication.ini"));
  EXPECT_TRUE(contains(s.run.process.output, "smoke test"));
  // The plan says where it leaves the data (100x the largest run) and that the law ties,
  // in the plan's one verdict box.
  const std::string fit_html = section_html(s.run.html, "fit");
  EXPECT_TRUE(contains(fit_html, "<strong>the plan (from the N-bar law):</strong>")) << fit_html;
  EXPECT_TRUE(contains(fit_html, "above the fitted runs"));
  EXPECT_TRUE(contains(fit_html, "sparse and dense tie"));
}

// Issue #25: one verdict box per law (plus one for the fit as a whole and one for the plan),
// never a box per note; the plan's warnings are each listed once with their budgets.
TEST(Report, TheFitSectionGivesOneVerdictPerLaw) {
  const FailedSweep& s = failed_sweep();
  ASSERT_EQ(s.run.process.exit_code, 0) << s.run.process.output;
  const nlohmann::json fit = nlohmann::json::parse(read_file(s.dir + "/fit.json"));
  const std::string html = section_html(s.run.html, "fit");
  EXPECT_EQ(count_of(html, "<div class=\"verdict"), static_cast<int>(fit["laws"].size()) + 2)
      << html;
  EXPECT_EQ(count_of(html, "<p class=\"note\">"), 0) << "notes belong in the verdicts";
  for (const auto& law : fit["laws"]) {
    const std::string label = law["form"] == "sparse"
                                  ? std::string("sparse (Frantar et al.)")
                                  : "chinchilla N=" + law["size_variable"].get<std::string>();
    EXPECT_EQ(count_of(html, "<strong>" + label + ":</strong>"), 1) << label;
  }
  // Every warning at most once: the warning text is not repeated per budget.
  static const std::regex item_re("<li>([^<]*)</li>");
  std::set<std::string> items;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), item_re);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(items.insert((*it)[1].str()).second) << "repeated: " << (*it)[1].str();
  }
}

// A degenerate law (fit.json edited to say so, as `journey fit` writes it) gets a red verdict,
// and when it is the law the plan uses (the best validated, as `journey plan`'s default), the
// plan is greyed out under a sentence that says why, in the page and in report.txt.
TEST(Report, APlanFromADegenerateLawIsGreyedOut) {
  const FailedSweep& s = failed_sweep();
  ASSERT_EQ(s.run.process.exit_code, 0) << s.run.process.output;
  const std::string dir = fresh_dir("degenerate");
  fs::copy(s.dir, dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  fs::remove_all(dir + "/figures");
  nlohmann::json fit = nlohmann::json::parse(read_file(dir + "/fit.json"));
  const std::string best = fit["best_size_variable"];
  const std::string label = best == "avg" ? "N-bar law" : "N_" + best + " law";
  for (auto& law : fit["laws"]) {
    law["degenerate"] = nlohmann::json::array();
    if (law["form"] == "chinchilla" && law["size_variable"] == best) {
      law["degenerate"].push_back(
          "E = 1e-09 collapsed to zero: the irreducible loss is not identified");
    }
  }
  std::ofstream(dir + "/fit.json") << fit.dump(1);
  const ReportRun run = run_report(dir);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.output;
  const std::string html = section_html(run.html, "fit");
  EXPECT_TRUE(contains(html, "<div class=\"verdict flagged\"><p><strong>chinchilla N=" + best +
                                 ":</strong> degenerate"))
      << html;
  EXPECT_EQ(count_of(html, "E = 1e-09 collapsed to zero"), 1) << "listed once, in the law's box";
  EXPECT_TRUE(contains(html, "<li>E = 1e-09 collapsed to zero")) << html;
  EXPECT_TRUE(contains(html, "From the " + label + ", the law `journey plan` uses by default"))
      << html;
  EXPECT_TRUE(
      contains(html, "<strong>the plan (from the " + label + "):</strong> do not plan with it"))
      << html;
  EXPECT_EQ(count_of(html, "<div class=\"table-wrap flagged\">"), 1) << html;
  EXPECT_TRUE(contains(html, "<p class=\"flagged-why\">Greyed out: the " + label +
                                 " this plan comes from is degenerate"))
      << html;
  const std::string text = read_file(dir + "/report.txt");
  EXPECT_TRUE(contains(text, "  Greyed out: the " + label)) << text;
  EXPECT_TRUE(contains(text, "From the " + label + ", the law `journey plan` uses")) << text;
  EXPECT_TRUE(contains(run.process.output, "plan from the " + label + " (validated best; "))
      << run.process.output;
  EXPECT_EQ(count_of(text, "\n  ~ "), 3) << "the plan's three rows are marked";
  EXPECT_TRUE(contains(run.process.output, "plan greyed out")) << run.process.output;
  // The original, whose laws are not flagged for degeneracy, greys out nothing unless its fit
  // said so.
  bool degenerate = false;
  for (const auto& law : nlohmann::json::parse(read_file(s.dir + "/fit.json"))["laws"]) {
    degenerate = degenerate || (law["size_variable"] == "avg" && law.contains("degenerate") &&
                                !law["degenerate"].empty());
  }
  EXPECT_EQ(contains(s.run.html, "table-wrap flagged"), degenerate);
}

// One size at two durations: no law can separate its terms, so every law is unreliable and
// the plan is greyed out.
TEST(Report, APlanFromTooFewSizesIsGreyedOutAsUnreliable) {
  const std::string dir = fresh_dir("one-size");
  SweepSpec spec;
  spec.sizes = "32x2x2";
  spec.sparsities = "0 0.5 0.8";
  spec.durations = "2 4";
  write_synthetic_sweep(dir, spec);
  const ReportRun run = run_report(dir);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.output;
  const std::string html = section_html(run.html, "fit");
  EXPECT_TRUE(contains(html, "<strong>the fit as a whole:</strong> unreliable")) << html;
  EXPECT_TRUE(contains(html, "<strong>chinchilla N=avg:</strong> ")) << html;
  EXPECT_TRUE(contains(html, "<div class=\"table-wrap flagged\">")) << html;
  EXPECT_TRUE(contains(html, "this plan comes from is unreliable") ||
              contains(html, "this plan comes from is degenerate"))
      << html;
}

// Issue #25: several sweep directories are one data set: the cells of both in the page and in
// report.txt, the fit over the union beside the page, each directory in the run metadata.
TEST(ReportMulti, TwoSweepsAreReportedAsOneDataSet) {
  const std::string a = fresh_dir("multi-a"), b = fresh_dir("multi-b"), out = fresh_dir("multi");
  SweepSpec spec;
  spec.sizes = "32x2x2";
  spec.durations = "2 4";
  const std::vector<std::string> ids_a = write_synthetic_sweep(a, spec);
  spec.sizes = "48x2x2";
  const std::vector<std::string> ids_b = write_synthetic_sweep(b, spec);
  const testing::ProcessResult r = run_process(
      journey_command("report " + a + " " + b + " --out " + out + "/report.html --bootstrap 40"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string html = read_file(out + "/report.html");
  const std::string text = read_file(out + "/report.txt");
  for (const std::vector<std::string>* ids : {&ids_a, &ids_b}) {
    for (const std::string& id : *ids) {
      EXPECT_TRUE(contains(section_html(html, "metadata"), "<td>" + id + "</td>")) << id;
      EXPECT_TRUE(contains(text, id)) << id;
    }
  }
  EXPECT_TRUE(contains(html, "12 cells: 12 done")) << section_html(html, "cells");
  EXPECT_TRUE(contains(text, "12 cells: 12 done"));
  // The fit: over both results tables, written beside the page, not into either sweep.
  const nlohmann::json fit = nlohmann::json::parse(read_file(out + "/fit.json"));
  EXPECT_EQ(fit["runs"], 12);
  EXPECT_EQ(fit["source"], a + "/results.csv, " + b + "/results.csv");
  EXPECT_FALSE(fs::exists(a + "/fit.json"));
  EXPECT_FALSE(fs::exists(b + "/fit.json"));
  EXPECT_TRUE(contains(r.output, "computed now")) << r.output;
  // Each directory in the metadata, with its sweep.ini.
  const std::string metadata = section_html(html, "metadata");
  EXPECT_TRUE(contains(metadata, "<td>" + a + "</td><td>6</td><td>6</td>")) << metadata;
  EXPECT_TRUE(contains(metadata, "<td>" + b + "</td><td>6</td><td>6</td>")) << metadata;
  EXPECT_TRUE(contains(metadata, "sweep.ini of " + b)) << metadata;
  EXPECT_TRUE(contains(text, "sweep.ini of " + b)) << text;
  EXPECT_TRUE(contains(r.output, "directory " + b + ": 6 cells, 6 done")) << r.output;
  // Figures over the union, beside the page.
  EXPECT_TRUE(fs::exists(out + "/figures/fig3-collapse.png"));
  EXPECT_TRUE(contains(html, "<figure class=\"plot\" id=\"fig3-collapse\">"));
  // The second run reads the fit it wrote.
  const testing::ProcessResult again = run_process(
      journey_command("report " + a + " " + b + " --out " + out + "/report.html --bootstrap 40"));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_FALSE(contains(again.output, "computed now")) << again.output;
}

TEST(ReportMulti, SeveralDirectoriesNeedOutAndOneRunOnce) {
  const std::string a = fresh_dir("multi-once-a"), b = fresh_dir("multi-once-b");
  SweepSpec spec;
  spec.sizes = "32x2x2";
  write_synthetic_sweep(a, spec);
  write_synthetic_sweep(b, spec);
  const testing::ProcessResult no_out =
      run_process(journey_command("report " + a + " " + b + " --bootstrap 40"));
  EXPECT_EQ(no_out.exit_code, 2) << no_out.output;
  EXPECT_TRUE(contains(no_out.output, "--out FILE.html is required")) << no_out.output;
  const testing::ProcessResult twice = run_process(journey_command(
      "report " + a + " " + b + " --out " + fresh_dir("multi-once") + "/r.html --bootstrap 40"));
  EXPECT_EQ(twice.exit_code, 1) << twice.output;
  EXPECT_TRUE(contains(twice.output, "is in both " + a + " and " + b + " with the same lr"))
      << twice.output;
}

// The report never writes over its inputs: a page not ending in .html (its text would take
// the same name with .txt: results.csv -> results.txt, but the page itself results.csv) and,
// with several directories, a page inside one of them (the merged fit would replace that
// directory's own fit.json) are refused, the files left as they were.
TEST(ReportMulti, AnOutThatWouldOverwriteAnInputIsRefused) {
  const std::string a = fresh_dir("overwrite-a"), b = fresh_dir("overwrite-b");
  SweepSpec spec;
  spec.sizes = "32x2x2";
  write_synthetic_sweep(a, spec);
  spec.sizes = "48x2x2";
  write_synthetic_sweep(b, spec);
  ASSERT_EQ(run_report(a).process.exit_code, 0);  // a's own fit.json, from its 6 cells.
  const std::string csv = read_file(a + "/results.csv"), fit = read_file(a + "/fit.json");

  const testing::ProcessResult not_html =
      run_process(journey_command("report " + a + " --out " + a + "/results.csv"));
  EXPECT_EQ(not_html.exit_code, 2) << not_html.output;
  EXPECT_TRUE(contains(not_html.output, "--out " + a +
                                            "/results.csv: expected a file name "
                                            "ending in .html"))
      << not_html.output;

  const testing::ProcessResult inside = run_process(
      journey_command("report " + a + " " + b + " --out " + a + "/merged.html --bootstrap 40"));
  EXPECT_EQ(inside.exit_code, 2) << inside.output;
  EXPECT_TRUE(contains(inside.output, a + " holds results.csv, a results directory whose own "
                                          "fit that would replace"))
      << inside.output;
  EXPECT_EQ(read_file(a + "/results.csv"), csv);
  EXPECT_EQ(read_file(a + "/fit.json"), fit);
  EXPECT_FALSE(fs::exists(a + "/merged.html"));
  EXPECT_FALSE(fs::exists(a + "/results.txt"));
}

// A results directory (results.csv without a ledger: published results, or sweeps merged by
// scripts/merge_results.py) is reported from its table: the cells, the fit and the figures
// of final losses, with a note that curves need the cells' files; a second directory adds
// its cells; a malformed table is refused naming its file, line and column.
TEST(ReportMulti, AResultsDirectoryWithoutALedgerIsReportedFromItsTable) {
  const std::string sweep = fresh_dir("table-sweep"), table = fresh_dir("table-only"),
                    other = fresh_dir("table-other"), out = fresh_dir("table-out");
  SweepSpec spec;
  spec.sizes = "32x2x2 48x2x2";
  write_synthetic_sweep(sweep, spec);
  // The table as the coordinator writes it, copied without the ledger and the cells.
  const Ledger ledger = Ledger::load(sweep);
  write_results(ledger);
  fs::copy_file(sweep + "/results.csv", table + "/results.csv");

  const std::vector<CellRecord> read = read_results_table(table);
  ASSERT_EQ(read.size(), ledger.records().size());
  for (size_t i = 0; i < read.size(); ++i) {
    const CellRecord& want = ledger.records()[i];
    EXPECT_EQ(read[i].id, want.id);
    EXPECT_EQ(read[i].status, want.status);
    EXPECT_EQ(read[i].size, want.size);
    EXPECT_EQ(read[i].d_model, want.d_model);
    EXPECT_EQ(read[i].schedule, want.schedule);
    EXPECT_EQ(read[i].sparsity, want.sparsity);
    EXPECT_EQ(read[i].dense_frac, want.dense_frac);
    EXPECT_EQ(read[i].tokens_per_param, want.tokens_per_param);
    EXPECT_EQ(read[i].lr, want.lr);
    EXPECT_EQ(read[i].run.n_avg, want.run.n_avg);
    EXPECT_EQ(read[i].run.n_final, want.run.n_final);
    EXPECT_EQ(read[i].run.tokens, want.run.tokens);
    EXPECT_EQ(read[i].run.compute, want.run.compute);
    EXPECT_EQ(read[i].run.final_eval_loss, want.run.final_eval_loss);
    EXPECT_EQ(read[i].run.steps_done, want.run.steps_done);
  }

  const testing::ProcessResult r =
      run_process(journey_command("report " + table + " --bootstrap 40"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string html = read_file(table + "/report.html");
  const std::string cells = section_html(html, "cells");
  EXPECT_TRUE(contains(cells, "12 cells: 12 done")) << cells;
  EXPECT_TRUE(contains(cells, "has no ledger.json: its 12 cells are the rows of its results.csv"))
      << cells;
  EXPECT_TRUE(contains(html, "<figure class=\"plot\" id=\"fig3-collapse\">"));
  EXPECT_TRUE(contains(html, "<figure class=\"plot\" id=\"fig4-predicted\">"));
  EXPECT_FALSE(contains(html, "<figure class=\"plot\" id=\"fig1-journey\">"));
  EXPECT_TRUE(contains(section_html(html, "journey"), "the results directory holds none"));
  EXPECT_EQ(nlohmann::json::parse(read_file(table + "/fit.json"))["runs"], 12);
  EXPECT_FALSE(fs::exists(table + "/ledger.json"));

  // With a sweep directory beside it: one data set, the sweep's cells with their curves.
  spec.sizes = "64x2x4";
  write_synthetic_sweep(other, spec);
  const testing::ProcessResult both = run_process(journey_command(
      "report " + table + " " + other + " --out " + out + "/report.html --bootstrap 40"));
  ASSERT_EQ(both.exit_code, 0) << both.output;
  const std::string merged = read_file(out + "/report.html");
  EXPECT_TRUE(contains(merged, "18 cells: 18 done")) << section_html(merged, "cells");
  EXPECT_TRUE(contains(merged, "<figure class=\"plot\" id=\"fig1-journey\">"));

  // With the sweep's results.h5 beside the table: the curves it holds are drawn.
  const std::string with_h5 = fresh_dir("table-h5");
  fs::copy_file(sweep + "/results.csv", with_h5 + "/results.csv");
  fs::copy_file(sweep + "/results.h5", with_h5 + "/results.h5");
  const testing::ProcessResult curves =
      run_process(journey_command("report " + with_h5 + " --bootstrap 40"));
  ASSERT_EQ(curves.exit_code, 0) << curves.output;
  const std::string curves_html = read_file(with_h5 + "/report.html");
  EXPECT_TRUE(contains(curves_html, "12 of them have training curves from its results.h5"))
      << section_html(curves_html, "cells");
  EXPECT_TRUE(contains(curves_html, "<figure class=\"plot\" id=\"fig1-journey\">"));
  EXPECT_TRUE(contains(curves_html, "<figure class=\"plot\" id=\"fig2-losses\">"));
  // A results.h5 that is not one: the table is still reported, with a warning naming it.
  std::ofstream(with_h5 + "/results.h5", std::ios::trunc) << "not an HDF5 file";
  const testing::ProcessResult garbled =
      run_process(journey_command("report " + with_h5 + " --bootstrap 40"));
  ASSERT_EQ(garbled.exit_code, 0) << garbled.output;
  EXPECT_TRUE(contains(read_file(with_h5 + "/report.txt"),
                       "histories of results.h5 left out: " + with_h5 + "/results.h5"))
      << read_file(with_h5 + "/report.txt");

  // A status no sweep writes.
  std::string text = read_file(table + "/results.csv");
  const size_t at = text.find(",done,");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 6, ",finished,");
  std::ofstream(table + "/results.csv") << text;
  const testing::ProcessResult bad =
      run_process(journey_command("report " + table + " --bootstrap 40"));
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_TRUE(contains(bad.output, table + "/results.csv line 2, column 'status'")) << bad.output;
}

// The same grid at two learning rates (an lr scan): the same cell ids are two runs, told apart
// by their lr, and --select best-lr fits the better rate's runs only.
TEST(ReportMulti, TheSameCellsAtTwoRatesAreTwoRunsAndSelectPicksTheBest) {
  const std::string a = fresh_dir("multi-lr-a"), b = fresh_dir("multi-lr-b"),
                    out = fresh_dir("multi-lr");
  SweepSpec spec;
  spec.sizes = "32x2x2 48x2x2";
  spec.durations = "2 4";
  spec.lr = "0.003";
  spec.loss_offset = 0.2;
  const std::vector<std::string> ids = write_synthetic_sweep(a, spec);
  spec.lr = "0.006";
  spec.loss_offset = 0;
  write_synthetic_sweep(b, spec);
  const testing::ProcessResult r = run_process(journey_command(
      "report " + a + " " + b + " --out " + out + "/report.html --bootstrap 40 --select best-lr"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string html = read_file(out + "/report.html");
  EXPECT_TRUE(contains(html, "<td>" + ids[0] + " (lr 0.003)</td>"))
      << section_html(html, "metadata");
  EXPECT_TRUE(contains(html, "<td>" + ids[0] + " (lr 0.006)</td>"));
  EXPECT_TRUE(contains(read_file(out + "/report.txt"), ids[0] + " (lr 0.006)"));
  const nlohmann::json fit = nlohmann::json::parse(read_file(out + "/fit.json"));
  EXPECT_EQ(fit["runs"], 12) << "one rate of each size";
  EXPECT_TRUE(contains(fit["notes"].dump(), "lr selection: 32x2x2 keeps lr 0.006"))
      << fit["notes"].dump();
  // Without --select the fit.json beside the page is not current: it is fitted again.
  const testing::ProcessResult all = run_process(
      journey_command("report " + a + " " + b + " --out " + out + "/report.html --bootstrap 40"));
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_EQ(nlohmann::json::parse(read_file(out + "/fit.json"))["runs"], 24);
  // One directory keeps its fit in DIR, and a report without --select uses a fit.json made
  // with it (as a sweep with several rates makes) instead of overwriting it.
  ASSERT_EQ(run_report(a, "--select best-lr").process.exit_code, 0);
  EXPECT_TRUE(contains(read_file(a + "/fit.json"), "lr selection: "));
  const ReportRun plain = run_report(a);
  ASSERT_EQ(plain.process.exit_code, 0) << plain.process.output;
  EXPECT_FALSE(contains(plain.process.output, "computed now")) << plain.process.output;
  EXPECT_TRUE(contains(read_file(a + "/fit.json"), "lr selection: "));
}

// Issue #26 4b: the page and report.txt are two renderings of one content; every table cell
// of the page, and every figure's caption, is in the text too.
TEST(Report, TheTextReportCarriesTheSameNumbersAsThePage) {
  const FailedSweep& s = failed_sweep();
  ASSERT_EQ(s.run.process.exit_code, 0) << s.run.process.output;
  ASSERT_TRUE(fs::exists(s.dir + "/report.txt")) << s.run.process.output;
  const std::string text = read_file(s.dir + "/report.txt");
  EXPECT_TRUE(contains(s.run.process.output, s.dir + "/report.txt")) << s.run.process.output;
  static const std::regex cell_re("<td>([^<]*)</td>");
  int cells = 0, numbers = 0;
  for (auto it = std::sregex_iterator(s.run.html.begin(), s.run.html.end(), cell_re);
       it != std::sregex_iterator(); ++it) {
    const std::string cell = html_unescape((*it)[1].str());
    ++cells;
    numbers += std::regex_match(cell, std::regex("[-+]?[0-9.]+(e[-+]?[0-9]+)?"));
    EXPECT_TRUE(contains(text, cell)) << "not in report.txt: " << cell;
  }
  EXPECT_GT(cells, 300);
  EXPECT_GT(numbers, 200);
  // The plan's numbers in particular, row by row in the same order.
  static const std::regex plan_row_re("<tr><td>([0-9.e+]+)</td><td>([0-9.e+]+)</td><td>");
  std::vector<std::string> budgets;
  const std::string fit_html = section_html(s.run.html, "fit");
  for (auto it = std::sregex_iterator(fit_html.begin(), fit_html.end(), plan_row_re);
       it != std::sregex_iterator(); ++it) {
    auto escaped = [](const std::string& x) {
      return std::regex_replace(x, std::regex("[.+]"), "\\$&");
    };
    budgets.push_back(escaped((*it)[1].str()) + " +" + escaped((*it)[2].str()));
  }
  ASSERT_EQ(budgets.size(), 3u) << fit_html;
  const size_t plan_at = text.find("Plan for three budgets");
  ASSERT_NE(plan_at, std::string::npos);
  std::string rest = text.substr(plan_at);
  for (const std::string& pattern : budgets) {
    std::smatch found;
    ASSERT_TRUE(std::regex_search(rest, found, std::regex(pattern))) << pattern << "\n"
                                                                     << rest.substr(0, 2000);
    rest = found.suffix();
  }
  // Figures by title and caption, with their PNG.
  for (const std::string& name : kPlainSweepFigures) {
    EXPECT_TRUE(contains(text, "[figures/" + name + ".png]")) << name;
  }
}

TEST(Report, ExistingCurrentFitIsReusedAndOutputsGoWhereAsked) {
  const FailedSweep& s = failed_sweep();
  ASSERT_EQ(s.run.process.exit_code, 0) << s.run.process.output;
  const auto fit_time = fs::last_write_time(s.dir + "/fit.json");
  const std::string out = fresh_dir("elsewhere");
  const testing::ProcessResult r = run_process(journey_command(
      "report " + s.dir + " --out " + out + "/page.html --png-dir " + out + "/png"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(contains(r.output, "computed now")) << r.output;
  EXPECT_EQ(fs::last_write_time(s.dir + "/fit.json"), fit_time);
  const std::string html = read_file(out + "/page.html");
  EXPECT_EQ(count_of(html, "<svg"), static_cast<int>(kPlainSweepFigures.size()));
  EXPECT_TRUE(png_size(out + "/png/fig3-collapse.png").valid);
  EXPECT_TRUE(contains(html, "href=\"png/fig3-collapse.png\""));
}

TEST(Report, OpensInHeadlessChromiumWithEveryFigureAndNoConsoleErrors) {
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "/usr/bin/chromium is not installed";
  const FailedSweep& s = failed_sweep();
  ASSERT_EQ(s.run.process.exit_code, 0) << s.run.process.output;
  const std::string tmp = fresh_dir("chromium");
  const std::string browser =
      "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic "
      "--no-first-run --disable-background-networking --disable-component-update "
      "--disable-sync --user-data-dir=" +
      tmp + "/profile --enable-logging=stderr --v=0 ";
  const std::string page = "file://" + fs::absolute(s.dir + "/report.html").string();
  const testing::ProcessResult shot =
      run_process(browser + "--screenshot=" + tmp + "/shot.png --window-size=1280,4000 " + page);
  ASSERT_EQ(shot.exit_code, 0) << shot.output;
  const PngSize png = png_size(tmp + "/shot.png");
  ASSERT_TRUE(png.valid) << shot.output;
  EXPECT_EQ(png.width, 1280u);
  EXPECT_EQ(png.height, 4000u);
  EXPECT_GT(fs::file_size(tmp + "/shot.png"), 100000u);  // Figures, not a blank page.

  const testing::ProcessResult dom = run_process(browser + "--window-size=1280,4000 --dump-dom " +
                                                 page + " 2>" + tmp + "/dom.log");
  ASSERT_EQ(dom.exit_code, 0) << dom.output;
  // The page's check counted every figure laid out with a non-zero size and drawing in it.
  const std::string figures = std::to_string(kPlainSweepFigures.size());
  EXPECT_TRUE(contains(dom.output, "data-figures=\"" + figures + "\""))
      << dom.output.substr(0, 600);
  EXPECT_TRUE(contains(dom.output, "data-figures-ok=\"" + figures + "\""))
      << dom.output.substr(0, 600);
  EXPECT_EQ(count_of(dom.output, "<figure class=\"plot\""),
            static_cast<int>(kPlainSweepFigures.size()));
  // Legends readable at the report's width: no key entry displayed below 11 px.
  std::smatch legend;
  ASSERT_TRUE(
      std::regex_search(dom.output, legend, std::regex("data-smallest-legend-px=\"([0-9.]+)\"")))
      << dom.output.substr(0, 600);
  EXPECT_GE(std::stod(legend[1].str()), 11.0) << "the smallest legend text, in pixels";
  // Chromium logs console messages and script errors as "CONSOLE" lines.
  for (const std::string& log : {shot.output, read_file(tmp + "/dom.log")}) {
    EXPECT_FALSE(contains(log, "CONSOLE")) << log;
  }
}

TEST(Report, ScheduleGridGetsHeatMapsWithTheBestCellAndThe255025Gap) {
  const std::string dir = fresh_dir("grid");
  SweepSpec spec;
  spec.sizes = "32x2x2 48x2x2";
  spec.sparsities = "0 0.8";
  spec.durations = "2";
  spec.phases = "0.25:0.75 0.5:0.75 0:0.5 0.5:1";
  spec.dense_size_loss = true;
  spec.failed_cell = "48x2x2-sp0.8-geometric-p0-50-tpp2-seed0";
  // The landscape's minimum is at 50/25/25; 25/50/25 sits 0.0125 above it.
  spec.phase_penalty = [](double cs, double ce) {
    return 0.05 * std::fabs(cs - 0.5) + 0.05 * std::fabs(ce - 0.75);
  };
  const std::vector<std::string> ids = write_synthetic_sweep(dir, spec);
  ASSERT_EQ(std::count(ids.begin(), ids.end(), spec.failed_cell), 1);
  const ReportRun run = run_report(dir);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.output;
  expect_figures(
      dir, run.html,
      {"fig1-journey", "fig2-losses", "fig3-collapse", "fig4-predicted", "fig5-schedule-grid",
       "fig6-equal-compute", "fig8-residuals", "fig9-frontier", "fig10-matrix-sparsity"});
  // The failed cell's box is hatched and explained in the heat maps' key.
  const size_t grid_at = run.html.find("id=\"fig5-schedule-grid\"");
  ASSERT_NE(grid_at, std::string::npos);
  const std::string grid = run.html.substr(grid_at, run.html.find("</figure>", grid_at) - grid_at);
  EXPECT_TRUE(contains(grid, "not done"));
  EXPECT_TRUE(contains(grid, ">failed<")) << "the failed box's label";
  // One panel per size: best 50/25/25, 25/50/25 about 0.0125 above (the wobble is 0.001).
  EXPECT_EQ(count_of(run.process.output, "best 50/25/25"), 2) << run.process.output;
  std::smatch gap;
  const std::regex gap_re(R"(25/50/25 is \+(0\.\d+) above the best)");
  ASSERT_TRUE(std::regex_search(run.process.output, gap, gap_re)) << run.process.output;
  EXPECT_NEAR(std::stod(gap[1].str()), 0.0125, 0.0025);
  EXPECT_TRUE(contains(run.html, "<td>50/25/25</td>"));
}

TEST(Report, TooFewDoneCellsSkipTheLawWithANote) {
  const std::string dir = fresh_dir("few");
  SweepSpec spec;
  spec.sizes = "32x2x2 48x2x2";
  spec.sparsities = "0 0.5";
  spec.durations = "2";
  write_synthetic_sweep(dir, spec);
  const ReportRun run = run_report(dir);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.output;
  expect_figures(dir, run.html,
                 {"fig1-journey", "fig2-losses", "fig3-collapse", "fig6-equal-compute",
                  "fig10-matrix-sparsity"});
  EXPECT_TRUE(contains(run.html, "no fit: 4 cells are done; the scaling-law fit needs at least 6"))
      << run.html.substr(0, 3000);
  EXPECT_FALSE(fs::exists(dir + "/fit.json"));
}

// With several seeds the grid shows each point's spread and outlines the points within the
// seed noise of the best: differences inside that band are not findings.
TEST(Report, ScheduleGridShowsSeedNoise) {
  const std::string dir = fresh_dir("grid-seeds");
  SweepSpec spec;
  spec.sizes = "32x2x2";
  spec.sparsities = "0 0.8";
  spec.durations = "2";
  spec.phases = "0.25:0.75 0.5:0.75 0:0.5 0.5:1";
  spec.seeds = "0 1 2";
  spec.dense_size_loss = true;
  // The best phases are 50/25/25, the default a little behind: within the seeds' noise.
  spec.phase_penalty = [](double cs, double ce) {
    return 0.0004 * std::fabs(cs - 0.5) + 0.0004 * std::fabs(ce - 0.75);
  };
  write_synthetic_sweep(dir, spec);
  const std::vector<GridPanel> panels = schedule_grid(load_sweep(dir));
  ASSERT_EQ(panels.size(), 1u);
  EXPECT_FALSE(std::isnan(panels[0].seed_noise));
  EXPECT_FALSE(std::isnan(panels[0].points[0].seed_sd));
  const ReportRun run = run_report(dir);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.output;
  EXPECT_TRUE(contains(run.html, "within seed noise of the best")) << run.process.output;
  EXPECT_TRUE(contains(run.html, "±")) << "no seed spread in the labels";
  EXPECT_TRUE(contains(run.process.output, "(seed noise ")) << run.process.output;
}

// A matched-pairs sweep gets figure 7: each sparse run over its dense twin of equal N-bar.
TEST(Report, MatchedPairsAreOverlaid) {
  const std::string dir = fresh_dir("matched");
  SweepSpec spec;
  spec.sizes = "48x2x2 64x2x4";
  spec.sparsities = "0.5 0.8";
  spec.durations = "2 4";
  spec.matched_dense = true;
  write_synthetic_sweep(dir, spec);
  const ReportRun run = run_report(dir);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.output;
  ASSERT_TRUE(contains(run.html, "<figure class=\"plot\" id=\"fig7-matched-pairs\">"))
      << run.process.output;
  EXPECT_TRUE(png_size(dir + "/figures/fig7-matched-pairs.png").valid);
  EXPECT_TRUE(contains(run.html, "dense twin 36x2x2f175")) << "a twin's size is named";
}

TEST(Report, BadInvocationsExitWithTheirCodes) {
  EXPECT_EQ(run_process(journey_command("report")).exit_code, 2);
  EXPECT_EQ(run_process(journey_command("report /tmp --bootstrap 3")).exit_code, 2);
  const std::string dir = fresh_dir("not-a-sweep");
  const testing::ProcessResult r = run_process(journey_command("report " + dir));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "not a sweep directory")) << r.output;
}

// Without gnuplot (a GPU node often has none) the report is still written with every table,
// says once on stdout which figures are missing and how to get them, and exits 0.
TEST(Report, WithoutGnuplotTheTablesAreWrittenAndTheMissingFiguresNamedOnce) {
  const std::string dir = small_sweep("no-gnuplot");
  const testing::ProcessResult r =
      run_process("PATH=/nonexistent " + journey_command("report " + dir + " --bootstrap 40"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(count_of(r.output, "gnuplot is not installed"), 1) << r.output;
  EXPECT_TRUE(contains(r.output, "5 figures not drawn (fig1-journey, fig2-losses")) << r.output;
  EXPECT_TRUE(contains(r.output, "gnuplot-nox")) << r.output;
  const std::string html = read_file(dir + "/report.html");
  EXPECT_EQ(count_of(html, "<svg"), 0);
  EXPECT_TRUE(contains(html, "This page has no figures: gnuplot is not installed"));
  EXPECT_TRUE(contains(html, "Figure not drawn (gnuplot is not installed)"));
  // The tables are all there: the cells, with a row per cell.
  EXPECT_GE(count_of(html, "<table"), 2) << html.substr(0, 2000);
  EXPECT_GE(count_of(html, "32x2x2"), 2);
  EXPECT_FALSE(fs::exists(dir + "/figures/journey.png"));
}

// figures/ made a link to another directory: the report refuses it and replaces nothing there.
TEST(Report, AFiguresDirectoryThatIsALinkIsRefused) {
  const std::string dir = small_sweep("figures-link");
  const std::string elsewhere = fresh_dir("figures-link-target");
  fs::create_directories(elsewhere);
  std::ofstream(elsewhere + "/fig1-journey.png") << "not Journey's";
  fs::remove_all(dir + "/figures");
  fs::create_directory_symlink(elsewhere, dir + "/figures");
  const testing::ProcessResult r = run_process(journey_command("report " + dir));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, dir + "/figures: it is a symbolic link")) << r.output;
  EXPECT_EQ(read_file(elsewhere + "/fig1-journey.png"), "not Journey's");
  EXPECT_FALSE(fs::exists(dir + "/report.html"));
}

// A ledger edited to carry shell commands in a cell's size or id is refused when it is read,
// and nothing reaches gnuplot: gnuplot runs backquoted commands inside double quotes.
TEST(Report, ATamperedLedgerIsRefusedAndRunsNothing) {
  for (const std::string field : {"size", "id", "schedule"}) {
    const std::string dir = small_sweep("tampered-" + field);
    const std::string marker = dir + "/ran-" + field;
    nlohmann::json ledger = nlohmann::json::parse(read_file(dir + "/ledger.json"));
    ledger["cells"][0][field] = "32x2x2`touch " + marker + "`";
    std::ofstream(dir + "/ledger.json") << ledger.dump(1);
    const ReportRun run = run_report(dir);
    EXPECT_EQ(run.process.exit_code, 1) << run.process.output;
    EXPECT_TRUE(contains(run.process.output, "ledger.json")) << run.process.output;
    EXPECT_TRUE(contains(run.process.output, field)) << run.process.output;
    EXPECT_FALSE(fs::exists(marker)) << "a command from the ledger ran";
  }
}

// A number no sweep writes in a cell record (issue #27: a compute of 1e308 made the plan's
// budget overflow and `report` fail with a misleading `--flops must be a positive number`
// usage error, exit 2) is refused when the ledger is read: exit 1, naming the ledger, the
// cell, the field and what was expected, before anything is written.
TEST(Report, AnAbsurdLedgerNumberIsRefusedNamingItsCellAndField) {
  const std::string dir = fresh_dir("absurd-number");
  SweepSpec spec;
  spec.sizes = "32x2x2";
  spec.sparsities = "0 0.5 0.8";
  spec.durations = "2 4";  // 6 done cells: enough for the fit and the plan.
  write_synthetic_sweep(dir, spec);
  const std::string original = read_file(dir + "/ledger.json");
  struct Case {
    std::string field, value, expected;
  };
  const std::vector<Case> cases = {
      {"compute", "1e308", "is 1e+308; expected a positive number of FLOP"},
      {"compute", "-5", "is -5; expected a positive number of FLOP"},
      {"final_eval_loss", "null", "is null (not a number); expected a loss in (0, 100]"},
      {"final_eval_loss", "1e308", "is 1e+308; expected a loss in (0, 100]"},
      {"n_avg", "-5", "is -5; expected N-bar between n_final and n_initial"},
  };
  for (const Case& c : cases) {
    nlohmann::json ledger = nlohmann::json::parse(original);
    ledger["cells"][1]["run"][c.field] = nlohmann::json::parse(c.value);
    const std::string id = ledger["cells"][1]["id"];
    std::ofstream(dir + "/ledger.json") << ledger.dump(1);
    const ReportRun run = run_report(dir);
    EXPECT_EQ(run.process.exit_code, 1) << c.field << " " << c.value << "\n" << run.process.output;
    EXPECT_TRUE(contains(run.process.output,
                         dir + "/ledger.json: cell " + id + ": run." + c.field + " " + c.expected))
        << run.process.output;
    EXPECT_FALSE(contains(run.process.output, "--flops")) << run.process.output;
    for (const char* output : {"report.html", "fit.json", "fit.csv", "figures"}) {
      EXPECT_FALSE(fs::exists(dir + "/" + output)) << c.field << " " << c.value << ": " << output;
    }
  }
}

// Whatever a label holds, gnuplot prints it as text and runs nothing.
TEST(ReportData, HostileLabelsPrintAsThemselves) {
  const std::string dir = fresh_dir("hostile");
  const std::string marker = dir + "/ran";
  const std::string label = "a`touch " + marker + "`'b\"c_d\nx";
  Figure figure;
  figure.name = "hostile";
  figure.script = "set title " + gnuplot_quote(enhanced_literal(label)) + "\nset xlabel " +
                  gnuplot_lines({enhanced_literal(label), "second line"}) + "\nplot x title " +
                  gnuplot_quote(enhanced_literal(label)) + "\n";
  const RenderedFigure rendered = render_figure(figure, dir, dir);
  EXPECT_FALSE(fs::exists(marker)) << "a command in a label ran";
  EXPECT_TRUE(contains(rendered.svg, "touch")) << rendered.svg;
  EXPECT_TRUE(contains(rendered.svg, "c_d")) << "the underscore was taken as markup";
  EXPECT_TRUE(contains(rendered.svg, "second line"));
}

TEST(ReportData, TickStepsRoundUpToOneTwoOrFive) {
  EXPECT_DOUBLE_EQ(round_tick_step(1), 1);
  EXPECT_DOUBLE_EQ(round_tick_step(1.2), 2);
  EXPECT_DOUBLE_EQ(round_tick_step(3), 5);
  EXPECT_DOUBLE_EQ(round_tick_step(7), 10);
  EXPECT_DOUBLE_EQ(round_tick_step(49152), 50000);
  EXPECT_DOUBLE_EQ(round_tick_step(0.013), 0.02);
}

TEST(Report, APanelOfRunsThatDivergedAtOnceIsStillDrawn) {
  SweepData data;
  SweepCell cell;
  cell.record.id = cell.record.size = "32x2x2";
  cell.record.status = CellStatus::kFailed;
  cell.history = parse_cell_history(
      "step,loss,active,density,tokens\n0,nan,100,1,64\n1,nan,100,1,128\n", "", "by hand");
  data.cells.push_back(cell);
  const PlotStyle style(data);
  const std::optional<Figure> figure = loss_curves_figure(data, style);
  ASSERT_TRUE(figure.has_value());
  const std::string dir = fresh_dir("nan");
  const RenderedFigure rendered = render_figure(*figure, dir, dir);
  EXPECT_TRUE(contains(rendered.svg, "size 32x2x2"));
  EXPECT_TRUE(png_size(rendered.png_path).valid);
}

TEST(ReportData, CumulativeComputeOfAHistoryMatchesTheRunPlan) {
  SweepSpec spec;
  spec.sizes = "48x2x2";
  spec.sparsities = "0.8";
  spec.durations = "4";
  const std::string dir = fresh_dir("compute");
  const std::string id = write_synthetic_sweep(dir, spec).at(0);
  const SweepData data = load_sweep(dir);
  ASSERT_EQ(data.cells.size(), 1u);
  const CellHistory& h = data.cells[0].history;
  ASSERT_EQ(h.steps.size(), 336u);
  EXPECT_EQ(h.steps.front(), 1);
  EXPECT_NEAR(h.compute.back(), data.cells[0].record.run.compute, 1e-9 * h.compute.back());
  EXPECT_DOUBLE_EQ(h.density.front(), 1.0);
  EXPECT_NEAR(h.density.back(), 0.2, 1e-4);
  EXPECT_EQ(h.eval_steps, std::vector<int64_t>{336});
  EXPECT_THROW(parse_cell_history("step,loss\n0,abc\n", "", id), DataError);
  EXPECT_THROW(parse_cell_history("step,loss\n0,5.5\n", "", id), DataError);  // No `active`.
}

TEST(ReportData, SvgIdsAndTheirReferencesArePrefixed) {
  const std::string svg =
      "<?xml version=\"1.0\"?>\n<svg width=\"10\">\n<g id=\"gnuplot_canvas\">\n"
      "<path id='gpPt7' d='M0,0'/>\n<use xlink:href='#gpPt7' id='gpPt8'/>\n"
      "<rect filter=\"url(#textbox)\"/><filter id=\"textbox\"/>\n"
      "<a href=\"#elsewhere\">x</a><g id=\"fig2_plot_1\"/><g id=\"fig2_plot_1\"/></g></svg>\n";
  const std::string scoped = scope_svg_ids(svg, "fig2");
  EXPECT_EQ(scoped.rfind("<svg", 0), 0u) << scoped;
  EXPECT_TRUE(contains(scoped, "id=\"fig2-gnuplot_canvas\""));
  EXPECT_TRUE(contains(scoped, "id='fig2-gpPt7'"));
  EXPECT_TRUE(contains(scoped, "xlink:href='#fig2-gpPt7' id='fig2-gpPt8'"));
  EXPECT_TRUE(contains(scoped, "url(#fig2-textbox)"));
  EXPECT_TRUE(contains(scoped, "href=\"#elsewhere\""));  // Not an id of this SVG.
  EXPECT_FALSE(contains(scoped, "id=\"gnuplot_canvas\""));
  // gnuplot restarts its plot numbers in each multiplot panel.
  EXPECT_TRUE(contains(scoped, "<g id=\"fig2-fig2_plot_1\"/><g id=\"fig2-fig2_plot_1-2\"/>"));
}

// A SweepData by hand: dense cells at two computes, sparse cells between and outside them.
SweepCell cell(const std::string& id, double sparsity, double compute, double loss,
               double n_initial) {
  SweepCell c;
  c.record.id = id;
  c.record.size = id;
  c.record.status = CellStatus::kDone;
  c.record.sparsity = sparsity;
  c.record.tokens_per_param = 2;
  c.record.run.compute = compute;
  c.record.run.final_eval_loss = loss;
  c.record.run.n_initial = n_initial;
  c.record.run.n_final = (1 - sparsity) * n_initial;
  return c;
}

TEST(ReportData, EqualComputeReferenceIsInterpolatedInLogCompute) {
  SweepData data;
  data.cells = {cell("small", 0, 1e11, 5.0, 1e5), cell("large", 0, 4e11, 4.5, 4e5),
                cell("between", 0.5, 2e11, 4.7, 4e5), cell("outside", 0.5, 5e10, 5.2, 1e5)};
  data.cells.push_back(cell("failed", 0.5, 2e11, 0, 4e5));
  data.cells.back().record.status = CellStatus::kFailed;
  const std::vector<EqualComputeRow> rows = compare_at_equal_compute(data);
  ASSERT_EQ(rows.size(), 2u);  // Done sparse cells only.
  EXPECT_EQ(rows[0].sparse->record.id, "between");
  ASSERT_TRUE(rows[0].has_reference);
  EXPECT_NEAR(rows[0].dense_loss, 4.75, 1e-12);  // Half-way in log C.
  EXPECT_NEAR(rows[0].dense_params, 2e5, 1e-6);  // Geometric mean of the sizes.
  EXPECT_NEAR(rows[0].loss_difference, -0.05, 1e-12);
  EXPECT_NEAR(rows[0].final_size_ratio, 1.0, 1e-12);  // 2e5 of 2e5.
  EXPECT_DOUBLE_EQ(rows[0].kept_fraction, 0.5);
  EXPECT_FALSE(rows[1].has_reference);
  EXPECT_TRUE(std::isnan(rows[1].loss_difference));
}

// The frontier's band is filled only over the fitted runs' compute range; outside it the
// law and the band are dashed and the plot says "extrapolation".
TEST(ReportData, TheFrontierBandStaysWithinTheFittedComputeRange) {
  const FailedSweep& s = failed_sweep();
  ASSERT_EQ(s.run.process.exit_code, 0) << s.run.process.output;
  const SweepData data = load_sweep(s.dir);
  const FitSummary fit = read_fit_summary(s.dir + "/fit.json");
  ASSERT_GE(fit.chinchilla("avg")->draws.size(), 10u) << "no bootstrap draws to make a band";
  double c_lo = INFINITY, c_hi = 0;
  for (const SweepCell& cell : data.cells) {
    if (!cell.done()) continue;
    c_lo = std::min(c_lo, cell.record.run.compute);
    c_hi = std::max(c_hi, cell.record.run.compute);
  }
  const std::optional<Figure> figure = frontier_figure(data, PlotStyle(data), &fit);
  ASSERT_TRUE(figure.has_value());
  const std::string& script = figure->script;
  // Exactly one filled band, and it is the fitted range's.
  EXPECT_EQ(count_of(script, "with filledcurves"), 1) << script;
  EXPECT_TRUE(contains(script, "$fitted using 1:3:4 with filledcurves")) << script;
  const size_t from = script.find("$fitted << EOD\n");
  ASSERT_NE(from, std::string::npos);
  std::istringstream rows(script.substr(from + 15, script.find("EOD", from + 15) - from - 15));
  int n = 0;
  for (double c, rest; rows >> c;) {
    std::string line;
    std::getline(rows, line);
    (void)rest;
    EXPECT_GE(c, c_lo * (1 - 1e-9));
    EXPECT_LE(c, c_hi * (1 + 1e-9));
    ++n;
  }
  EXPECT_GT(n, 10);
  EXPECT_TRUE(contains(script, "set label 2 'extrapolation'"));
  EXPECT_TRUE(contains(script, "$beyond using 1:2 with lines lw 2 dt 2"));
  EXPECT_TRUE(contains(script, "$beyond using 1:3 with lines lw 1 dt 2"));
  EXPECT_TRUE(contains(figure->caption, "labelled extrapolation"));
  const std::string dir = fresh_dir("frontier");
  EXPECT_TRUE(contains(render_figure(*figure, dir, dir).svg, "extrapolation"));
}

// Figure 6 and its table state both compute measures: C = 6 N-bar D and the executed 6 P D.
TEST(ReportData, EqualComputeRowsCarryTheExecutedCompute) {
  SweepData data;
  data.cells = {cell("small", 0, 1e11, 5.0, 1e5), cell("large", 0, 4e11, 4.5, 4e5),
                cell("between", 0.5, 2e11, 4.7, 4e5)};
  data.cells[2].record.run.tokens = 100000;
  const std::vector<EqualComputeRow> rows = compare_at_equal_compute(data);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_DOUBLE_EQ(rows[0].executed_compute, 6.0 * 4e5 * 100000);
  const FailedSweep& s = failed_sweep();
  ASSERT_EQ(s.run.process.exit_code, 0) << s.run.process.output;
  const std::string html = section_html(s.run.html, "equal-compute");
  EXPECT_TRUE(contains(html, "<th>C = 6 N-bar D (FLOP)</th><th>executed 6 P D (FLOP)</th>"))
      << html.substr(0, 2000);
  EXPECT_TRUE(contains(html, "the sparse runs execute dense matrix products")) << "caption";
  // A done sparse cell's row: its executed compute is 6 N_initial D, more than its C.
  std::optional<SweepCell> sparse;
  for (const SweepCell& c : load_sweep(s.dir).cells) {
    if (c.done() && c.record.sparsity > 0 && !sparse) sparse = c;
  }
  ASSERT_TRUE(sparse.has_value());
  const double executed = 6.0 * sparse->record.run.n_initial * sparse->record.run.tokens;
  EXPECT_GT(executed, sparse->record.run.compute);
  EXPECT_TRUE(contains(html, "<tr><td>" + sparse->record.id + "</td><td>" +
                                 short_number(sparse->record.run.compute) + "</td><td>" +
                                 short_number(executed) + "</td>"))
      << html;
}

TEST(ReportData, CentredMovingAverageSkipsNaN) {
  const std::vector<double> y = {1, 2, 3, 4, 5};
  const std::vector<double> m = centred_moving_average(y, 1);
  EXPECT_DOUBLE_EQ(m[0], 1.5);
  EXPECT_DOUBLE_EQ(m[2], 3);
  EXPECT_DOUBLE_EQ(m[4], 4.5);
  const std::vector<double> g = centred_moving_average({1, NAN, 3}, 1);
  EXPECT_DOUBLE_EQ(g[0], 1);
  EXPECT_TRUE(std::isnan(g[1]));
  EXPECT_DOUBLE_EQ(g[2], 3);
  EXPECT_EQ(smoothing_half_window(10), 1);
  EXPECT_EQ(smoothing_half_window(400), 10);
}

// Figure 7: raw and smoothed curves, eval points, and the difference's seed-noise band when
// the pair has several seeds; with one seed, the panel says there is no band.
TEST(ReportData, MatchedPairsShowSmoothedCurvesEvalPointsAndSeedNoise) {
  for (const std::string seeds : {"0 1 2", "0"}) {
    const std::string dir = fresh_dir("pairs-seeds-" + std::to_string(seeds.size()));
    SweepSpec spec;
    spec.sizes = "48x2x2";
    spec.sparsities = "0.5 0.8";
    spec.durations = "2";
    spec.matched_dense = true;
    spec.seeds = seeds;
    write_synthetic_sweep(dir, spec);
    const SweepData data = load_sweep(dir);
    const std::optional<Figure> figure = matched_pairs_figure(data, PlotStyle(data));
    ASSERT_TRUE(figure.has_value());
    const std::string& script = figure->script;
    EXPECT_TRUE(contains(figure->caption, "centred moving average")) << figure->caption;
    // Two pair panels (S=0.5, S=0.8), each with faint raw, bold smoothed and eval points.
    EXPECT_EQ(count_of(script, "using 1:2 with lines lw 1 lc rgb '#A0"), 4) << script;
    EXPECT_EQ(count_of(script, "S using 1:2 with lines lw 2.5"), 2) << script;
    EXPECT_EQ(count_of(script, "e using 1:2 with points pt 7"), 2) << script;
    if (seeds.size() > 1) {
      EXPECT_EQ(count_of(script, "x using 1:3:4 with filledcurves"), 2) << script;
      EXPECT_EQ(count_of(script, "mean of 3 seeds, band +-1 sd (seed noise)"), 2) << script;
    } else {
      EXPECT_EQ(count_of(script, "x using 1:3:4 with filledcurves"), 0) << script;
      EXPECT_EQ(count_of(script, "one seed, so no seed-noise band"), 2) << script;
    }
    const RenderedFigure rendered = render_figure(*figure, dir, dir);
    EXPECT_TRUE(png_size(rendered.png_path).valid);
  }
}

// The two renderings of a content by hand: escaping, flagged tables, verdicts.
TEST(ReportData, ContentRendersToHtmlAndText) {
  ReportContent content;
  content.title = "T";
  ContentSection& sec = content.section("s", "1. S");
  sec.paragraph("a <b> & c");
  ContentTable table({"x", "y"});
  table.add_row({"1.25", "<2>"}, "best");
  table.flagged_why = "Greyed out: because.";
  sec.table(table);
  sec.verdict({"law", true, "degenerate", {"E collapsed", "alpha unpinned"}});
  const std::string html = render_html(content);
  EXPECT_TRUE(contains(html, "<p>a &lt;b&gt; &amp; c</p>"));
  EXPECT_TRUE(contains(html,
                       "<p class=\"flagged-why\">Greyed out: because.</p>\n"
                       "<div class=\"table-wrap flagged\">"));
  EXPECT_TRUE(contains(html, "<tr class=\"best\"><td>1.25</td><td>&lt;2&gt;</td></tr>"));
  EXPECT_TRUE(contains(html,
                       "<div class=\"verdict flagged\"><p><strong>law:</strong> "
                       "degenerate</p>\n<ul>\n<li>E collapsed</li>"));
  EXPECT_TRUE(contains(html, "<section id=\"s\">"));
  const std::string text = render_text(content);
  EXPECT_TRUE(contains(text, "a <b> & c"));
  EXPECT_TRUE(contains(text, "  Greyed out: because.\n"));
  EXPECT_TRUE(contains(text, "~ 1.25  <2>"));
  EXPECT_TRUE(contains(text, "[FLAGGED] law: degenerate\n  - E collapsed\n  - alpha unpinned"));
}

TEST(ReportData, ScheduleGridNeedsTwoPhasePairsAndFindsTheBest) {
  SweepData data;
  auto sparse = [](double cs, double ce, double loss, CellStatus status) {
    SweepCell c = cell("s", 0.8, 1e11, loss, 1e5);
    c.record.size = "64x2x4";
    c.record.schedule = "geometric";
    c.record.dense_frac = cs;
    c.record.prune_end_frac = ce;
    c.record.status = status;
    return c;
  };
  data.cells = {cell("d", 0, 1e11, 4.0, 1e5), sparse(0.25, 0.75, 4.30, CellStatus::kDone)};
  EXPECT_TRUE(schedule_grid(data).empty());
  data.cells.push_back(sparse(0.5, 1.0, 4.20, CellStatus::kDone));
  data.cells.push_back(sparse(0.0, 0.5, 0.0, CellStatus::kFailed));
  const std::vector<GridPanel> panels = schedule_grid(data);
  ASSERT_EQ(panels.size(), 1u);
  const GridPanel& p = panels[0];
  ASSERT_EQ(p.points.size(), 3u);
  EXPECT_EQ(p.points[0].status, "failed");  // Sorted by dense_frac: 0, 0.25, 0.5.
  EXPECT_TRUE(std::isnan(p.points[0].loss));
  EXPECT_DOUBLE_EQ(p.points[p.best].dense_frac, 0.5);
  EXPECT_DOUBLE_EQ(p.points[p.reference].dense_frac, 0.25);
  EXPECT_NEAR(p.reference_gap, 0.10, 1e-12);
  EXPECT_EQ(reference_gap_text(p), "25/50/25 is +0.1000 above the best");
}

}  // namespace
}  // namespace journey
