// Figures 3 (the collapse: loss against N-bar and against N_final, with the fitted law) and
// 4 (predicted against actual loss).
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

#include "report/figures.h"

namespace journey {
namespace {

// Done cells, each drawn as one point: colour by sparsity, marker by size.
std::vector<const SweepCell*> done_cells(const SweepData& data) {
  std::vector<const SweepCell*> cells;
  for (const SweepCell& cell : data.cells) {
    if (cell.done()) cells.push_back(&cell);
  }
  return cells;
}

double n_avg(const CellRecord& r) {
  return r.run.n_avg;
}
double n_final(const CellRecord& r) {
  return r.run.n_final;
}
double eval_loss(const CellRecord& r) {
  return r.run.final_eval_loss;
}

// The law's curve L(N, D) at each D of the runs, over the N the runs with that D span
// (widened a little), as one datablock of segments separated by blank lines; `labels`
// receives a gnuplot label naming D at the right end of each segment.
std::string law_curves(const FittedLaw& law, const std::vector<const SweepCell*>& cells,
                       double (*n_of)(const CellRecord&), std::string* labels) {
  std::map<int64_t, std::pair<double, double>> n_range;  // D -> [min N, max N]
  for (const SweepCell* cell : cells) {
    const CellRecord& r = cell->record;
    auto [it, fresh] = n_range.emplace(r.run.tokens, std::make_pair(n_of(r), n_of(r)));
    it->second.first = std::min(it->second.first, n_of(r));
    it->second.second = std::max(it->second.second, n_of(r));
  }
  std::ostringstream rows;
  for (const auto& [tokens, range] : n_range) {
    const double lo = std::log(range.first / 1.25), hi = std::log(range.second * 1.25);
    double n = 0, loss = 0;
    for (int i = 0; i <= 40; ++i) {
      n = std::exp(lo + (hi - lo) * i / 40);
      loss = law.law.predict(make_law_point(n, static_cast<double>(tokens), 0, 1));
      rows << data_number(n) << ' ' << data_number(loss) << '\n';
    }
    rows << '\n';
    *labels += "set label \"D=" + short_number(static_cast<double>(tokens), 3) + "\" at " +
               data_number(n) + ", " + data_number(loss) +
               " left offset char 0.4, 0 font ',8' tc rgb '#666666'\n";
  }
  return rows.str();
}

std::string mae_text(const FittedLaw& law) {
  std::string text = "MAE " + short_number(law.in_sample.mae, 3);
  const double held_out_points = law.leave_one_size_out.points + law.leave_one_sparsity_out.points;
  if (held_out_points > 0) {
    const double held_out =
        ((std::isnan(law.leave_one_size_out.mae) ? 0 : law.leave_one_size_out.mae) *
             law.leave_one_size_out.points +
         (std::isnan(law.leave_one_sparsity_out.mae) ? 0 : law.leave_one_sparsity_out.mae) *
             law.leave_one_sparsity_out.points) /
        held_out_points;
    text += ", held-out " + short_number(held_out, 3);
  }
  return text;
}

}  // namespace

std::optional<Figure> collapse_figure(const SweepData& data, const PlotStyle& style,
                                      const FitSummary* fit) {
  const std::vector<const SweepCell*> cells = done_cells(data);
  if (cells.empty()) return std::nullopt;
  Figure figure;
  figure.width = 1200;
  figure.height = 520;
  const bool any_law = fit != nullptr && (fit->chinchilla("avg") || fit->chinchilla("final"));
  const SharedKey key(
      static_cast<int>(style.sparsities().size() + style.sizes().size()) + (any_law ? 1 : 0),
      any_law ? 28 : 8, figure.width, figure.height);
  std::ostringstream s;
  std::string legend = style.sparsity_legend() + ", \\\n  " + style.size_legend();
  s << "set multiplot title \"Final eval loss against N-bar (left) and against "
       "N_{final} (right)\" font ',14'\n"
    << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n"
    << "set logscale x\nset format x '10^{%L}'\nset ylabel 'final eval loss (nats/token)'\n";
  struct Panel {
    const char* variable;
    const char* axis;
    double (*n_of)(const CellRecord&);
  };
  const Panel panels[] = {{"avg", "N-bar: average active prunable parameters over training", n_avg},
                          {"final", "N_{final}: prunable parameters left at the end", n_final}};
  int index = 0;
  for (const Panel& panel : panels) {
    const FittedLaw* law = fit ? fit->chinchilla(panel.variable) : nullptr;
    const std::string prefix = std::string("p") + std::to_string(index++) + "_";
    std::string clauses = "plot NaN notitle";
    s << key.panel(index - 1, 2) << "unset label\n";
    if (law != nullptr) {
      std::string labels;
      s << datablock(prefix + "law", law_curves(*law, cells, panel.n_of, &labels)) << labels;
      clauses += ", \\\n  $" + prefix + "law using 1:2 with lines lw 1.5 lc rgb '#888888' notitle";
    }
    clauses += style.scatter(s, prefix, cells, panel.n_of, eval_loss);
    s << "set xlabel " << gnuplot_quote(panel.axis) << "\n"
      << "set title "
      << gnuplot_quote(law != nullptr
                           ? "fitted law N=" + std::string(panel.variable) + ": " + mae_text(*law)
                           : std::string("no fitted law"))
      << "\n"
      << clauses << "\n";
  }
  if (any_law) {
    legend += ", \\\n  NaN with lines lw 1.5 lc rgb '#888888' title 'fitted law L(N, D) at each D'";
  }
  s << key.strip(legend) << "unset multiplot\n";

  figure.name = "fig3-collapse";
  figure.title = "3. The collapse: loss against N-bar, and against N_final";
  figure.caption =
      "Every done cell at its final eval loss. Left: against N-bar, the average number of "
      "active prunable parameters over training; grey curves are the Chinchilla law fitted with "
      "N = N-bar, drawn at each token count D of the runs over the sizes run at that D. If the "
      "journey matters, sparse and dense cells of equal D fall on one curve. Right: the same "
      "runs against N_final, the size they end with, and the law fitted with N = N_final.";
  if (fit == nullptr) figure.caption += " No law is drawn: there is no fit (see section 7).";
  figure.script = s.str();
  return figure;
}

std::optional<Figure> predicted_figure(const SweepData& data, const PlotStyle& style,
                                       const FitSummary& fit) {
  const std::vector<const SweepCell*> cells = done_cells(data);
  std::vector<const FittedLaw*> laws;
  for (const char* variable : {"avg", "final"}) {
    if (const FittedLaw* law = fit.chinchilla(variable)) laws.push_back(law);
  }
  for (const FittedLaw& law : fit.laws) {
    if (law.form == "sparse") laws.push_back(&law);
  }
  if (cells.empty() || laws.empty()) return std::nullopt;

  double lo = INFINITY, hi = -INFINITY;
  for (const SweepCell* cell : cells) {
    lo = std::min(lo, cell->record.run.final_eval_loss);
    hi = std::max(hi, cell->record.run.final_eval_loss);
  }
  Figure figure;
  figure.width = 420 * static_cast<int>(laws.size()) + 80;
  figure.height = 500;
  const SharedKey key(1 + static_cast<int>(style.sparsities().size() + style.sizes().size()), 18,
                      figure.width, figure.height);
  std::ostringstream s;
  s << "set multiplot title \"Predicted against actual final eval loss (in-sample MAE; held-out: "
       "refit "
       "without the run's size or sparsity)\" font ',13'\n"
    << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\nset size ratio -1\n"
    << "set xlabel 'actual final eval loss (nats/token)'\n"
    << "set ylabel 'predicted loss (nats/token)'\n";
  int index = 0;
  for (const FittedLaw* law : laws) {
    const std::string prefix = "q" + std::to_string(index++) + "_";
    auto predict = [law](const CellRecord& r) {
      const double n = law->size_variable == "avg" && law->form == "chinchilla" ? r.run.n_avg
                       : law->size_variable == "initial" && law->form == "chinchilla"
                           ? r.run.n_initial
                           : r.run.n_final;
      return law->law.predict(make_law_point(n, static_cast<double>(r.run.tokens), r.sparsity, 1));
    };
    for (const SweepCell* cell : cells) {
      lo = std::min(lo, predict(cell->record));
      hi = std::max(hi, predict(cell->record));
    }
    std::string clauses = "plot x with lines lc rgb '#888888' dt 2 notitle";
    s << key.panel(index - 1, static_cast<int>(laws.size()));
    clauses += style.scatter(s, prefix, cells, eval_loss, predict);
    s << "set title " << gnuplot_quote(enhanced_literal(law->label()) + ": " + mae_text(*law))
      << "\n"
      << clauses << "\n";
  }
  s << key.strip("NaN with lines lc rgb '#888888' dt 2 title 'predicted = actual', \\\n  " +
                 style.sparsity_legend() + ", \\\n  " + style.size_legend())
    << "unset multiplot\n";
  const double pad = 0.05 * (hi - lo) + 1e-3;
  std::string script = s.str();
  const std::string range = "set xrange [" + data_number(lo - pad) + ":" + data_number(hi + pad) +
                            "]\nset yrange [" + data_number(lo - pad) + ":" +
                            data_number(hi + pad) + "]\n";
  const size_t at = script.find("set size ratio -1\n");
  script.insert(at, range);

  figure.name = "fig4-predicted";
  figure.title = "4. Predicted against actual loss";
  figure.caption =
      "Each done cell's final eval loss against the loss each fitted law predicts for it "
      "(fit.json). Points on the dashed line are predicted exactly. The panel titles give the "
      "mean absolute error in sample and, where the runs hold more than one size or sparsity, "
      "held out (docs/fit.md, Validation).";
  figure.script = script;
  return figure;
}

}  // namespace journey
