#include "report/report.h"

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "common/error.h"
#include "common/executables.h"
#include "common/ini_entries.h"
#include "fit/fit_file.h"
#include "fit/planner.h"
#include "io/atomic_file.h"
#include "io/symlink_check.h"
#include "report/equal_compute.h"
#include "report/figures.h"
#include "report/fit_summary.h"
#include "report/html.h"
#include "report/machine_info.h"
#include "report/plot_style.h"
#include "report/report_content.h"
#include "report/schedule_grid.h"
#include "report/sweep_data.h"

namespace fs = std::filesystem;

namespace journey {
namespace {

std::string format(const char* fmt, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, x);
  return buf;
}

std::string signed4(double x) {
  return std::isnan(x) ? "-" : format("%+.4f", x);
}
std::string fixed4(double x) {
  return std::isnan(x) ? "-" : format("%.4f", x);
}

std::string steps_text(const CellRecord& r) {
  return std::to_string(r.run.steps_done) + "/" + std::to_string(r.run.total_steps);
}

std::string phases_of(const CellRecord& r) {
  return r.sparsity == 0 ? "-" : phases_label(r.dense_frac, r.prune_end_frac);
}

// A temporary directory for gnuplot's scripts and outputs, removed unless kept (it is kept
// when drawing fails, so the failing script can be inspected).
class WorkDir {
 public:
  WorkDir() {
    std::string pattern = (fs::temp_directory_path() / "journey-report-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw DataError("cannot create a temporary directory under " +
                      fs::temp_directory_path().string());
    }
    path_ = pattern;
  }
  ~WorkDir() {
    std::error_code ec;
    if (!keep_) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// The sweep directory's own name, also for "runs/demo/" and ".".
std::string sweep_name(const std::string& dir) {
  const fs::path path = fs::absolute(dir).lexically_normal();
  const std::string name = path.filename().string();
  return name.empty() ? path.parent_path().filename().string() : name;
}

struct Context {
  const ReportOptions& options;
  const SweepData& data;
  const PlotStyle& style;
  const FitStatus& fit;
  WorkDir& work;
  ReportContent& content;
  ReportResult& result;
  std::ostringstream& text;
  bool gnuplot;  // Whether figures can be drawn here.
};

void add_figure(Context& c, const std::optional<Figure>& figure, const std::string& missing) {
  if (!figure) {
    c.content.sections.back().note(missing);
    return;
  }
  if (!c.gnuplot) {
    c.content.sections.back().note("Figure not drawn (gnuplot is not installed): " + figure->title +
                                   ".");
    c.result.undrawn.push_back(figure->name);
    return;
  }
  RenderedFigure rendered = render_figure(*figure, c.work.path(), c.options.png_dir);
  const fs::path html_dir = fs::absolute(c.options.html_path).parent_path();
  const std::string link =
      fs::absolute(rendered.png_path).lexically_relative(html_dir).generic_string();
  c.content.sections.back().figure(
      {figure->name, figure->title, figure->caption, link, std::move(rendered.svg)});
  c.result.figures.push_back(figure->name);
  c.result.png_paths.push_back(rendered.png_path);
}

// What a sweep of this size can show, said first: a handful of short runs checks the
// pipeline but cannot support a five-parameter law. Thresholds: fewer than 24 finished runs
// or none past 3 tokens per parameter is a smoke test; under 10 tokens per parameter (the
// paper trains at 20 and more) is a small-scale study whose exponents may not transfer.
std::string scale_verdict(const SweepData& data) {
  int runs = 0;
  double lo = INFINITY, hi = 0;
  for (const SweepCell& cell : data.cells) {
    if (!cell.done()) continue;
    ++runs;
    lo = std::min(lo, cell.record.tokens_per_param);
    hi = std::max(hi, cell.record.tokens_per_param);
  }
  if (runs == 0) return "";
  const std::string scale = std::to_string(runs) + " finished run" + (runs == 1 ? "" : "s") +
                            " at " + short_number(lo, 3) +
                            (hi > lo ? "-" + short_number(hi, 3) : std::string()) +
                            " tokens per parameter";
  if (runs < 24 || hi < 3) {
    return "This sweep is a smoke test, not a study: " + scale +
           " show that every part of Journey works end to end, and are not enough for a "
           "scaling-law fit to mean anything (its coefficients and plan below are "
           "illustrations). For a study, run the CPU replication (configs/cpu-replication.ini, "
           "scripts/replicate.sh; RESULTS.md) or the paper's settings on GPUs "
           "(configs/paper.ini).";
  }
  if (hi < 10) {
    return "A small-scale study: " + scale +
           ", below the 20 and more of the paper; the fitted exponents describe this regime "
           "and may not transfer to larger runs.";
  }
  return "";
}

void status_section(Context& c) {
  const SweepData& data = c.data;
  ContentSection& sec = c.content.section("cells", "Cells");
  const std::string verdict = scale_verdict(data);
  if (!verdict.empty()) {
    sec.warning(verdict);
    c.text << verdict << "\n";
  }
  std::string counts = std::to_string(data.cells.size()) + " cells: ";
  bool first = true;
  for (CellStatus s : {CellStatus::kDone, CellStatus::kFailed, CellStatus::kDiverged,
                       CellStatus::kRunning, CellStatus::kPending, CellStatus::kPreempted}) {
    counts += (first ? "" : ", ") + std::to_string(data.count(s)) + " " + cell_status_name(s);
    first = false;
  }
  sec.paragraph(counts + ".");
  c.text << counts << "\n";
  ContentTable not_done({"cell", "status", "reason", "steps", "attempts"});
  for (const SweepCell& cell : data.cells) {
    if (cell.done()) continue;
    const CellRecord& r = cell.record;
    not_done.add_row({r.id, cell_status_name(r.status), r.reason.empty() ? "-" : r.reason,
                      steps_text(r), std::to_string(r.attempts)},
                     is_unsuccessful(r.status) ? "failed" : "not-done");
    c.text << "  not done: " << r.id << " " << cell_status_name(r.status) << " at step "
           << steps_text(r) << (r.reason.empty() ? "" : ": " + r.reason) << "\n";
  }
  if (!not_done.empty()) {
    sec.paragraph(
        "Cells that did not finish. They are left out of the fit and of the final-loss "
        "figures (3, 4, 6); where they have a partial history (figures 1 and 2) their curves "
        "end in a hollow circle, and in the schedule grid (5) their boxes are hatched.");
    sec.table(std::move(not_done));
  }
  for (const SweepSource& source : data.sources) {
    if (!source.results_only) continue;
    const std::string note =
        source.dir + " has no ledger.json: its " + std::to_string(source.cells) +
        " cells are the rows of its results.csv, and " +
        (source.stored_histories > 0
             ? std::to_string(source.stored_histories) + " of them have training curves from " +
                   "its results.h5 (figures 1, 2 and the matched pairs)."
             : "only those with files in cells/<id>/ have training curves (figures 1, 2 and "
               "the matched pairs).");
    sec.note(note);
    c.text << "  note: " << note << "\n";
  }
  for (const std::string& warning : data.warnings) {
    sec.warning(warning);
    c.text << "  warning: " << warning << "\n";
  }
}

void training_sections(Context& c) {
  // A sweep records histories as it trains; a results directory has what was kept of them.
  bool all_results_only = true;
  for (const SweepSource& source : c.data.sources) all_results_only &= source.results_only;
  const std::string none =
      all_results_only ? "No cell has a training history here: the results directory holds none "
                         "(no histories in results.h5, no cells/<id>/metrics.csv)."
                       : "No cell has recorded a training history (cells/<id>/metrics.csv) yet.";
  c.content.section("journey", "1. The journey");
  add_figure(c, journey_figure(c.data, c.style), none);
  c.content.section("losses", "2. Loss curves");
  add_figure(c, loss_curves_figure(c.data, c.style), none);
}

void law_sections(Context& c) {
  const FitSummary* fit = c.fit.fit ? &*c.fit.fit : nullptr;
  c.content.section("collapse", "3. The collapse");
  if (!fit)
    c.content.sections.back().note(c.fit.note + ". The figure shows the runs without the law.");
  add_figure(c, collapse_figure(c.data, c.style, fit), "No cell is done yet.");
  ContentSection& sec = c.content.section("predicted", "4. Predicted against actual");
  if (!fit) {
    sec.note(c.fit.note + ".");
    return;
  }
  add_figure(c, predicted_figure(c.data, c.style, *fit), "No cell is done yet.");
}

void schedule_section(Context& c, const std::vector<GridPanel>& panels) {
  ContentSection& sec = c.content.section("schedules", "5. Schedule sweep");
  if (panels.empty()) {
    sec.note(
        "Not a schedule sweep: the sparse cells share one (dense_frac, prune_end_frac) pair, "
        "so there is no grid to map.");
    return;
  }
  add_figure(c, schedule_grid_figure(panels), "");
  ContentTable table({"size", "schedule", "sparsity", "tok/param", "best phases", "best loss",
                      "25/50/25 loss", "25/50/25 - best"});
  c.text << "schedule grid:\n";
  for (const GridPanel& p : panels) {
    const GridPoint* best = p.best >= 0 ? &p.points[p.best] : nullptr;
    const GridPoint* ref = p.reference >= 0 ? &p.points[p.reference] : nullptr;
    table.add_row({p.size, p.schedule, short_number(p.sparsity), short_number(p.tokens_per_param),
                   best ? phases_label(best->dense_frac, best->prune_end_frac) : "-",
                   best ? fixed4(best->loss) : "-", ref ? fixed4(ref->loss) : "not in grid",
                   ref ? signed4(p.reference_gap) : "-"});
    c.text << "  " << p.size << " " << p.schedule << " " << sparsity_label(p.sparsity) << " "
           << duration_label(p.tokens_per_param) << ": best "
           << (best ? phases_label(best->dense_frac, best->prune_end_frac) + " (" +
                          fixed4(best->loss) + ")"
                    : "-")
           << "; " << reference_gap_text(p) << "\n";
  }
  sec.table(std::move(table));
}

void equal_compute_section(Context& c) {
  ContentSection& sec =
      c.content.section("equal-compute", "6. Sparse against dense at equal compute");
  const std::vector<EqualComputeRow> rows = compare_at_equal_compute(c.data);
  const FitSummary* fit = c.fit.fit ? &*c.fit.fit : nullptr;
  add_figure(c, equal_compute_figure(c.data, c.style, rows, fit),
             "Needs done sparse and dense cells.");
  if (rows.empty()) return;
  sec.paragraph(
      "Two compute measures: C = 6 N-bar D counts only the weights alive at each step (what "
      "an implementation that skips pruned weights would spend, and the law's axis); the "
      "runs themselves multiply dense matrices with the pruned weights masked to zero, so "
      "they execute 6 P D, P the dense prunable parameter count. The comparison is at equal "
      "C; the executed column shows what the sparse run actually cost.");
  ContentTable table({"sparse cell", "C = 6 N-bar D (FLOP)", "executed 6 P D (FLOP)", "loss",
                      "dense loss at C", "sparse - dense", "N_final", "dense N at C",
                      "N_final / dense N", "N_final / N_initial"});
  int compared = 0, better = 0;
  double ratio_lo = INFINITY, ratio_hi = 0;
  for (const EqualComputeRow& row : rows) {
    const CellRecord& r = row.sparse->record;
    table.add_row({r.id, short_number(r.run.compute), short_number(row.executed_compute),
                   fixed4(r.run.final_eval_loss),
                   row.has_reference ? fixed4(row.dense_loss) : "outside the dense runs' range",
                   signed4(row.loss_difference), short_number(r.run.n_final),
                   short_number(row.dense_params), short_number(row.final_size_ratio, 3),
                   short_number(row.kept_fraction, 3)});
    if (!row.has_reference) continue;
    ++compared;
    better += row.loss_difference < 0;
    ratio_lo = std::min(ratio_lo, row.final_size_ratio);
    ratio_hi = std::max(ratio_hi, row.final_size_ratio);
  }
  sec.table(std::move(table));
  c.text << "equal compute: " << compared << " of " << rows.size()
         << " sparse cells lie within the dense runs' compute range";
  if (compared > 0) {
    c.text << "; " << better << " reach a lower loss than the dense run of equal compute; "
           << "their final size is " << short_number(ratio_lo, 3) << " to "
           << short_number(ratio_hi, 3) << " of that dense model";
  }
  c.text << "\n";
}

// Figures 7-10: matched pairs, residuals, the compute frontier, per-matrix sparsity.
void detail_sections(Context& c) {
  const FitSummary* fit = c.fit.fit ? &*c.fit.fit : nullptr;
  c.content.section("matched", "7. Matched pairs");
  add_figure(c, matched_pairs_figure(c.data, c.style),
             "Not a matched-pairs sweep: with sweep.matched_dense every sparse cell gets a dense "
             "twin of its N-bar on the same tokens (configs/cpu-replication-matched.ini).");
  c.content.section("residuals", "8. Residuals");
  add_figure(c, residuals_figure(c.data, c.style, fit),
             fit ? "No cell is done yet." : c.fit.note + ".");
  c.content.section("frontier", "9. The compute frontier");
  add_figure(c, frontier_figure(c.data, c.style, fit),
             fit ? "Needs done cells and the N-bar law." : c.fit.note + ".");
  c.content.section("matrix-sparsity", "10. Sparsity of each matrix");
  add_figure(c, matrix_sparsity_figure(c.data, c.style),
             "No cell has recorded per-matrix sparsity (cells/<id>/sparsity.csv, written by "
             "pruned runs).");
}

void fit_section(Context& c) {
  ContentSection& sec = c.content.section("fit", "11. The fit");
  if (!c.fit.fit) {
    sec.note(c.fit.note + ". Run `journey report` again when more cells are done.");
    c.text << "fit: " << c.fit.note << "\n";
    return;
  }
  const FitSummary& fit = *c.fit.fit;
  sec.paragraph(std::string(fit.computed_now ? "Fitted now and written to " : "Read from ") +
                fit.path + ": " + std::to_string(fit.runs) + " runs, " +
                std::to_string(fit.skipped) + " skipped (not done); " +
                std::to_string(fit.resamples) + " bootstrap resamples (seed " +
                std::to_string(fit.seed) +
                "). Chinchilla law L = E + A / N^alpha + B / "
                "D^beta with N = N-bar, N_final or N_initial; sparse law of Frantar et al. "
                "(docs/fit.md).");
  ContentTable coefficients(
      {"law", "coefficient", "estimate", "standard error", "95% CI low", "95% CI high"});
  for (const FittedLaw& law : fit.laws) {
    for (const FitCoefficient& k : law.coefficients) {
      coefficients.add_row({law.label(), k.name, short_number(k.estimate, 5), short_number(k.se, 3),
                            short_number(k.ci_low, 4), short_number(k.ci_high, 4)});
    }
  }
  sec.heading("Coefficients with bootstrap intervals");
  sec.table(std::move(coefficients));
  ContentTable comparison({"law", "in-sample MAE", "in-sample max", "leave-one-size-out MAE", "max",
                           "folds", "leave-one-sparsity-out MAE", "max", "folds"});
  auto folds = [](const FitError& e) { return e.points == 0 ? "-" : std::to_string(e.groups); };
  for (const FittedLaw& law : fit.laws) {
    const bool best = law.form == "chinchilla" && law.size_variable == fit.best_size_variable;
    comparison.add_row({law.label() + (best ? " (best)" : ""), fixed4(law.in_sample.mae),
                        fixed4(law.in_sample.max), fixed4(law.leave_one_size_out.mae),
                        fixed4(law.leave_one_size_out.max), folds(law.leave_one_size_out),
                        fixed4(law.leave_one_sparsity_out.mae),
                        fixed4(law.leave_one_sparsity_out.max), folds(law.leave_one_sparsity_out)},
                       best ? "best" : "");
  }
  sec.heading("Model comparison (absolute error of predicted loss)");
  sec.table(std::move(comparison));
  sec.paragraph("Best size variable: " + fit.best_size_variable +
                " (lowest held-out MAE, or in-sample MAE when nothing can be held out).");

  c.text << "fit (" << fit.path << (fit.computed_now ? ", computed now" : "") << "): " << fit.runs
         << " runs; best size variable " << fit.best_size_variable << "\n";
  for (const FittedLaw& law : fit.laws) {
    c.text << "  " << law.label() << ":";
    for (const FitCoefficient& k : law.coefficients) {
      c.text << " " << k.name << " " << short_number(k.estimate, 4);
    }
    c.text << "; MAE " << fixed4(law.in_sample.mae) << "\n";
  }

  // One verdict per law, and one for what concerns the fit as a whole: every note about a
  // subject in one box, instead of a box per note.
  sec.heading("Verdicts");
  const std::string degenerate_prefix = "degenerate fit, ";
  Verdict overall{"the fit as a whole", fit.thin_coverage(), "", {}};
  for (const std::string& note : fit.notes) {
    if (note.rfind(degenerate_prefix, 0) != 0) overall.notes.push_back(note);
  }
  overall.summary = overall.flagged
                        ? "unreliable: every law below rests on too few sizes or durations"
                    : overall.notes.empty() ? "no notes"
                                            : "notes that apply to every law";
  sec.verdict(overall);
  for (const FittedLaw& law : fit.laws) {
    Verdict v{law.label(), !law.degenerate.empty() || fit.thin_coverage(), "", law.degenerate};
    const std::string errors = "in-sample MAE " + fixed4(law.in_sample.mae) +
                               ", leave-one-size-out MAE " + fixed4(law.leave_one_size_out.mae);
    if (!law.degenerate.empty()) {
      v.summary =
          "degenerate: the runs do not determine its coefficients; do not use its "
          "predictions (" +
          errors + ")";
    } else if (fit.thin_coverage()) {
      v.summary = "unreliable: fitted on " + std::to_string(fit.sizes) + " size(s) with at most " +
                  std::to_string(fit.durations_per_size) + " duration(s) each (" + errors + ")";
    } else {
      v.summary = "no warnings (" + errors + ")";
    }
    sec.verdict(v);
    if (v.flagged) c.text << "  flagged " << v.subject << ": " << v.summary << "\n";
  }

  sec.heading("Plan for three budgets");
  // The law `journey plan` uses by default: the one `journey fit` validated best.
  std::optional<SavedFit> saved;
  try {
    saved = read_fit_json(fit.path, "");
  } catch (const std::exception& e) {
    sec.note(std::string("No plan: ") + e.what());
    c.text << "  no plan: " << e.what() << "\n";
    return;
  }
  const FittedLaw* law = fit.named(saved->law_name);
  if (law == nullptr) {
    sec.note("No plan: fit.json holds no " + law_label(saved->law_name) + ".");
    return;
  }
  const std::string law_name = law_label(saved->law_name);
  double max_compute = 0;
  for (const SweepCell& cell : c.data.cells) {
    if (cell.done()) max_compute = std::max(max_compute, cell.record.run.compute);
  }
  std::string errors;
  for (const SavedFit::LawChoice& choice : saved->laws) {
    const bool held_out = !std::isnan(choice.held_out_mae);
    errors += (errors.empty() ? "" : ", ") + choice.name + " " +
              fixed4(held_out ? choice.held_out_mae : choice.in_sample_mae) +
              (held_out ? "" : " in-sample");
  }
  sec.paragraph(
      "From the " + law_name +
      ", the law `journey plan` uses by default: the size variable `journey fit` validated "
      "best (held-out MAE, in-sample where nothing could be held out: " +
      errors +
      "; `journey plan --law NAME` plans with another). For budgets of 1, 10 and 100 times "
      "the sweep's largest run: the dense size P, sparsity S (up to " +
      short_number(fit.max_sparsity, 3) +
      ", the largest fitted) and tokens D with the lowest predicted loss, phases 25/50/25, "
      "and the best dense run (fit/planner.h). Under the N-bar law without a size cap every "
      "sparsity predicts the same loss; ties go to the smallest final model.");
  c.text << "  plan from the " << law_name << " (validated best; " << errors << ")\n";
  ContentTable plan({"budget C (FLOP)", "P", "S", "schedule", "N-bar", "N_final", "D (tokens)",
                     "predicted loss", "dense P", "dense D", "dense loss", "N_final / dense N"});
  Verdict plan_verdict{"the plan (from the " + law_name + ")", false, "", {}};
  const FitEvidence& evidence = saved->evidence;
  // Each warning once, with the budgets it applies to.
  std::vector<std::pair<std::string, std::vector<std::string>>> warnings;
  for (double multiple : {1.0, 10.0, 100.0}) {
    PlanRequest request;
    request.flops = max_compute * multiple;
    request.max_sparsity = fit.max_sparsity;
    const Plan p = plan_compute(saved->law, saved->size_variable, request);
    for (const std::string& w : plan_warnings(p, request, evidence)) {
      // The law's own verdict above lists why it is degenerate or thinly covered; the
      // plan's verdict says so once instead of repeating each reason.
      if (w.rfind("the " + law_name + " is degenerate (", 0) == 0 ||
          w.rfind("the law was fitted on ", 0) == 0) {
        continue;
      }
      auto it = std::find_if(warnings.begin(), warnings.end(),
                             [&](const auto& entry) { return entry.first == w; });
      if (it == warnings.end()) it = warnings.insert(warnings.end(), {w, {}});
      it->second.push_back(short_number(request.flops));
    }
    plan.add_row({short_number(request.flops), short_number(p.best.dense_params),
                  short_number(p.best.sparsity, 3), schedule_name(p.best.schedule),
                  short_number(p.best.mean_params), short_number(p.best.final_params),
                  short_number(p.best.tokens), fixed4(p.best.loss),
                  short_number(p.dense.dense_params), short_number(p.dense.tokens),
                  fixed4(p.dense.loss),
                  short_number(p.best.final_params / p.dense.final_params, 3)});
    c.text << "  plan C=" << short_number(request.flops) << ": P "
           << short_number(p.best.dense_params) << ", S " << short_number(p.best.sparsity, 3)
           << ", D " << short_number(p.best.tokens) << ", loss " << fixed4(p.best.loss)
           << " (dense " << fixed4(p.dense.loss) << ")\n";
  }
  for (const auto& [w, budgets] : warnings) {
    std::string at;
    for (const std::string& b : budgets) at += (at.empty() ? "" : ", ") + b;
    plan_verdict.notes.push_back(
        (budgets.size() == 3 ? "every budget"
                             : "budget" + std::string(budgets.size() > 1 ? "s " : " ") + at) +
        ": " + w);
    c.text << "  plan warning (" << at << "): " << w << "\n";
  }
  const bool law_flagged = !law->degenerate.empty() || fit.thin_coverage();
  plan_verdict.flagged = law_flagged || !plan_verdict.notes.empty();
  if (law_flagged) {
    plan_verdict.summary = "do not plan with it: the " + law_name + " is " +
                           std::string(law->degenerate.empty() ? "unreliable" : "degenerate") +
                           " (its verdict above)";
    plan.flagged_why =
        "Greyed out: the " + law_name + " this plan comes from is " +
        std::string(law->degenerate.empty()
                        ? "unreliable (too few sizes or durations to separate its terms)"
                        : "degenerate (the runs do not determine its coefficients)") +
        ", so these numbers only show what the planner does; they are not a recommendation.";
    c.text << "  plan greyed out: the " << law_name << " is flagged\n";
  } else {
    plan_verdict.summary = plan_verdict.notes.empty() ? "within the fitted data: no warnings"
                                                      : "read the plan with these limits in mind";
  }
  sec.verdict(plan_verdict);
  sec.table(std::move(plan));
}

void metadata_section(Context& c) {
  ContentSection& sec = c.content.section("metadata", "12. Run metadata");
  const MachineInfo machine = this_machine();
  std::time_t now = std::time(nullptr);
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  ContentTable about({"", ""});
  about.add_row({"Journey version", machine.journey_version});
  about.add_row({"report made", stamp});
  about.add_row({"host", machine.host});
  about.add_row({"system", machine.os});
  about.add_row({"CPU", machine.cpu_model});
  about.add_row({"logical cores", std::to_string(machine.cores)});
  sec.table(std::move(about));
  sec.paragraph(
      "The machine above made this report; the sweep's own machine is recorded per cell only "
      "through its wall time, throughput and group size below.");

  double wall = 0, tokens = 0;
  std::vector<std::string> columns{
      "cell",   "status",   "size",     "sparsity",  "schedule", "phases",  "tok/param",
      "seed",   "steps",    "tokens D", "compute C", "N-bar",    "N_final", "final eval loss",
      "wall s", "tokens/s", "attempts", "ranks"};
  const bool several_dirs = c.data.sources.size() > 1;
  if (several_dirs) columns.insert(columns.begin() + 1, {"directory", "lr"});
  ContentTable cells(columns);
  for (const SweepCell& cell : c.data.cells) {
    const CellRecord& r = cell.record;
    wall += r.wall_s;
    tokens += static_cast<double>(r.run.tokens) * (cell.done() ? 1 : 0);
    std::vector<std::string> row{r.id,
                                 cell_status_name(r.status),
                                 r.size,
                                 short_number(r.sparsity),
                                 r.schedule,
                                 phases_of(r),
                                 short_number(r.tokens_per_param),
                                 std::to_string(r.seed),
                                 steps_text(r),
                                 std::to_string(r.run.tokens),
                                 short_number(r.run.compute),
                                 short_number(r.run.n_avg),
                                 short_number(r.run.n_final),
                                 cell.done() ? fixed4(r.run.final_eval_loss) : "-",
                                 format("%.1f", r.wall_s),
                                 format("%.0f", r.run.tokens_per_s),
                                 std::to_string(r.attempts),
                                 std::to_string(r.group_size)};
    if (several_dirs) row.insert(row.begin() + 1, {cell.dir, short_number(r.lr, 3)});
    cells.add_row(row, cell.done() ? "" : (is_unsuccessful(r.status) ? "failed" : "not-done"));
  }
  const std::string totals =
      "Training wall time summed over cells: " + format("%.1f", wall) + " s; " +
      short_number(tokens, 6) + " tokens in done cells" +
      (wall > 0 ? ", " + format("%.0f", tokens / wall) + " tokens/s overall per group" : "") + ".";
  sec.paragraph(totals);
  c.text << totals << "\n";
  sec.table(std::move(cells));

  const bool several = c.data.sources.size() > 1;
  if (several) {
    sec.heading("Sweep directories");
    sec.paragraph("This report reads " + std::to_string(c.data.sources.size()) +
                  " sweep directories as one data set: every figure and the fit are over the "
                  "cells of all of them.");
    ContentTable sources({"directory", "cells", "done"});
    for (const SweepSource& source : c.data.sources) {
      int done = 0;
      for (const SweepCell& cell : c.data.cells) done += cell.dir == source.dir && cell.done();
      sources.add_row({source.dir, std::to_string(source.cells), std::to_string(done)});
      c.text << "directory " << source.dir << ": " << source.cells << " cells, " << done
             << " done\n";
    }
    sec.table(std::move(sources));
  }
  for (const SweepSource& source : c.data.sources) {
    sec.heading(several ? "sweep.ini of " + source.dir : std::string("sweep.ini"));
    if (source.sweep_ini.empty()) {
      sec.note("The directory holds no sweep.ini.");
    } else {
      sec.pre(source.sweep_ini);
    }
  }
  // Per-cell configs: only the keys whose values differ between cells.
  std::vector<std::string> keys;
  std::map<std::string, std::map<std::string, std::string>> values;  // cell -> key -> value
  std::map<std::string, std::string> first_value;
  std::map<std::string, bool> differs;
  for (const SweepCell& cell : c.data.cells) {
    if (cell.config_ini.empty()) continue;
    for (const auto& [key, value] : ini_entries(cell.config_ini)) {
      if (!first_value.count(key)) {
        first_value[key] = value;
        keys.push_back(key);
      } else if (first_value[key] != value) {
        differs[key] = true;
      }
      values[cell.record.id][key] = value;
    }
  }
  std::vector<std::string> varying;
  for (const std::string& key : keys) {
    // A key missing from some config also counts as differing.
    bool everywhere = true;
    for (const auto& [id, kv] : values) everywhere = everywhere && kv.count(key);
    if (differs[key] || !everywhere) varying.push_back(key);
  }
  sec.heading("Per-cell config differences");
  if (values.empty()) {
    sec.note("No cell has written its config.ini yet.");
    return;
  }
  sec.paragraph(
      "Keys of cells/<id>/config.ini whose values differ between cells; every "
      "other key is the same in all " +
      std::to_string(values.size()) + " configs (as in sweep.ini).");
  std::vector<std::string> header{"cell"};
  header.insert(header.end(), varying.begin(), varying.end());
  ContentTable diff(header);
  for (const auto& [id, kv] : values) {
    std::vector<std::string> row{id};
    for (const std::string& key : varying) row.push_back(kv.count(key) ? kv.at(key) : "(absent)");
    diff.add_row(row);
  }
  sec.table(std::move(diff));
}

}  // namespace

ReportResult write_report(const ReportOptions& given) {
  ReportOptions options = given;
  if (options.dirs.empty()) throw UsageError("journey report: no sweep directory given");
  const bool several = options.dirs.size() > 1;
  if (several && options.html_path.empty()) {
    throw UsageError(
        "--out FILE.html is required with several directories: the report belongs to none of "
        "them alone");
  }
  const fs::path dir(options.dirs.front());
  if (options.html_path.empty()) options.html_path = (dir / "report.html").string();
  // The page and its text (.txt beside it) never replace an input: results.csv, results.h5,
  // ledger.json, fit.json and sweep.ini all end otherwise.
  if (fs::path(options.html_path).extension() != ".html") {
    throw UsageError("--out " + options.html_path +
                     ": expected a file name ending in .html (the page; its text is written "
                     "beside it with .txt)");
  }
  // With several directories the fit and the figures go beside the page: not into a results
  // directory, whose own fit.json and fit.csv the merged fit would replace.
  const fs::path out_dir = fs::path(options.html_path).parent_path();
  if (several) {
    const fs::path fit_home = out_dir.empty() ? fs::path(".") : out_dir;
    for (const char* name : {"results.csv", "ledger.json"}) {
      if (fs::exists(fit_home / name)) {
        throw UsageError("--out " + options.html_path +
                         ": the fit of several directories is "
                         "written beside the page (fit.json, fit.csv), and " +
                         fit_home.string() + " holds " + name +
                         ", a results directory whose own fit that would replace; put the "
                         "page in another directory");
      }
    }
  }
  if (options.png_dir.empty()) {
    options.png_dir = several ? (out_dir / "figures").string() : (dir / "figures").string();
  }

  // Figures are replaced in place: never through a link (io/symlink_check.h).
  refuse_symlinks_under((fs::path(options.png_dir) / "..").lexically_normal().string(),
                        options.png_dir, "journey report");
  const SweepData data = load_sweeps(options.dirs);
  const std::string fit_dir =
      several ? (out_dir.empty() ? std::string(".") : out_dir.string()) : dir.string();
  const FitStatus fit = load_or_fit(options.dirs, fit_dir, data.count(CellStatus::kDone),
                                    options.fit, options.select_best_lr);
  const PlotStyle style(data);
  for (const fs::path& out :
       {fs::absolute(options.html_path).parent_path(), fs::absolute(options.png_dir)}) {
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) throw DataError("cannot create directory " + out.string() + ": " + ec.message());
  }

  ReportResult result;
  result.html_path = options.html_path;
  result.text_path = fs::path(options.html_path).replace_extension(".txt").string();
  ReportContent content;
  std::string names, dirs;
  for (const std::string& d : options.dirs) {
    names += (names.empty() ? "" : " + ") + sweep_name(d);
    dirs += (dirs.empty() ? "" : ", ") + d;
  }
  content.title = "Journey sweep report: " + names;
  content.subtitle = several ? "one data set of " + std::to_string(options.dirs.size()) +
                                   " sweep directories: " + dirs
                             : dirs;
  WorkDir work;
  std::ostringstream text;
  text << "journey report: " << dirs << "\n";
  Context c{
      options, data, style, fit, work, content, result, text, !find_program("gnuplot").empty()};
  if (!c.gnuplot)
    content.notes.push_back(std::string("This page has no figures: ") + kGnuplotMissing + ".");
  try {
    status_section(c);
    training_sections(c);
    law_sections(c);
    schedule_section(c, schedule_grid(data));
    equal_compute_section(c);
    detail_sections(c);
    fit_section(c);
    metadata_section(c);
  } catch (const DataError& e) {
    // A failing gnuplot script stays for inspection when the error points to it.
    if (std::string(e.what()).find(work.path()) != std::string::npos) work.keep();
    throw;
  }
  // One content, two renderings: the text first, so that the page, written last, is never
  // newer than a failed text.
  write_file_atomically(result.text_path, render_text(content));
  write_file_atomically(options.html_path, render_html(content));
  text << result.figures.size() << " figures; wrote " << options.html_path << ", "
       << result.text_path << " and " << result.png_paths.size() << " PNGs in " << options.png_dir
       << "\n";
  if (!result.undrawn.empty()) {
    text << result.undrawn.size() << " figures not drawn (";
    for (size_t i = 0; i < result.undrawn.size(); ++i) text << (i ? ", " : "") << result.undrawn[i];
    text << "): " << kGnuplotMissing << "\n";
  }
  result.summary = text.str();
  return result;
}

}  // namespace journey
