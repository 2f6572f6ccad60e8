// Figure 7: each matched pair (sweep.matched_dense) as overlaid training curves: the sparse
// run and the dense run of its N-bar on the same tokens, loss against tokens on the left axis
// and the sparse run's density on the right.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "report/figures.h"

namespace journey {
namespace {

constexpr char kMatchPrefix[] = "match-";

std::string rows_of(const std::vector<double>& x, const std::vector<double>& y) {
  std::ostringstream rows;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    rows << data_number(x[i]) << ' ' << data_number(y[i]) << '\n';
  }
  return rows.str();
}

}  // namespace

std::optional<Figure> matched_pairs_figure(const SweepData& data, const PlotStyle& style) {
  struct Pair {
    const SweepCell *sparse, *dense;
  };
  std::vector<Pair> pairs;
  for (const SweepCell& cell : data.cells) {
    const std::string& id = cell.record.id;
    if (id.rfind(kMatchPrefix, 0) != 0 || cell.history.steps.empty()) continue;
    for (const SweepCell& twin : data.cells) {
      if (twin.record.id == id.substr(sizeof kMatchPrefix - 1) && !twin.history.steps.empty()) {
        pairs.push_back({&twin, &cell});
      }
    }
  }
  if (pairs.empty()) return std::nullopt;
  const int columns = std::min<int>(3, static_cast<int>(pairs.size()));
  const int rows = (static_cast<int>(pairs.size()) + columns - 1) / columns;
  Figure figure;
  figure.width = 420 * columns + 60;
  figure.height = 330 * rows + 110;
  const SharedKey key(3, 36, figure.width, figure.height);
  std::ostringstream s;
  s << "set multiplot title 'Matched pairs: a sparse run and the dense run of its N-bar on the "
       "same tokens' font ',14'\n"
    << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n"
    << "set xlabel 'tokens seen'\nset format x '%.0s%c'\n"
    << "set ylabel 'training loss'\n"
    << "set y2label 'density of the sparse run'\nset y2range [0:1.05]\nset ytics nomirror\n"
    << "set y2tics 0.25\n";
  for (size_t i = 0; i < pairs.size(); ++i) {
    const Pair& p = pairs[i];
    const std::string tag = "p" + std::to_string(i);
    s << datablock(tag + "s", rows_of(p.sparse->history.tokens, p.sparse->history.loss))
      << datablock(tag + "d", rows_of(p.dense->history.tokens, p.dense->history.loss))
      << datablock(tag + "n", rows_of(p.sparse->history.tokens, p.sparse->history.density));
    const CellRecord& r = p.sparse->record;
    double gap = NAN;
    if (p.sparse->done() && p.dense->done()) {
      gap = r.run.final_eval_loss - p.dense->record.run.final_eval_loss;
    }
    // At most five tick labels a panel: gnuplot's own choice crowds a 400-pixel axis.
    const double tokens = p.sparse->history.tokens.empty() ? 1 : p.sparse->history.tokens.back();
    s << key.panel(static_cast<int>(i), static_cast<int>(pairs.size()), columns) << "set xtics "
      << data_number(round_tick_step(tokens / 4)) << "\nset title "
      << gnuplot_lines(
             {enhanced_literal(r.size) + " " + sparsity_label(r.sparsity) + ", " +
                  duration_label(r.tokens_per_param),
              "dense twin " + enhanced_literal(p.dense->record.size) +
                  (std::isnan(gap) ? std::string() : ": eval gap " + short_number(gap, 2))})
      << " font ',10'\n"
      << "plot $" << tag << "s using 1:2 with lines lw 1.5 lc rgb '" << style.color(r.sparsity)
      << "' notitle, \\\n  $" << tag
      << "d using 1:2 with lines lw 1.5 lc rgb '#000000' dt 2 notitle, \\\n  $" << tag
      << "n using 1:2 axes x1y2 with lines lw 1 lc rgb '#999999' notitle\n";
  }
  s << key.strip(
           "NaN with lines lw 1.5 lc rgb '" + style.color(0.8) +
           "' title 'sparse run (colour: its sparsity)', NaN with lines lw 1.5 lc rgb "
           "'#000000' dt 2 title 'dense run of its N-bar', NaN with lines lw 1 lc rgb '#999999' "
           "title 'density (right axis)'")
    << "unset multiplot\n";
  figure.name = "fig7-matched-pairs";
  figure.title = "7. Matched pairs";
  figure.caption =
      "Each panel overlays a sparse run (25/50/25 of compute, its colour its sparsity) and "
      "the dense run whose prunable parameter count equals the sparse run's N-bar, trained on "
      "the same tokens (sweep.matched_dense). The law predicts the same final loss for the "
      "two; the title gives the final eval loss of sparse minus dense. The grey line is the "
      "sparse run's density on the right axis.";
  figure.script = s.str();
  return figure;
}

}  // namespace journey
