// Figure 8: where the best law misses: each run's residual (actual - predicted final loss)
// against its sparsity and against its dense size. A law that captures sparsity through
// N-bar leaves no trend in either panel.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "report/figures.h"

namespace journey {

std::optional<Figure> residuals_figure(const SweepData& data, const PlotStyle& style,
                                       const FitSummary* fit) {
  if (fit == nullptr) return std::nullopt;
  const FittedLaw* law = fit->chinchilla(fit->best_size_variable);
  if (law == nullptr) law = fit->chinchilla("avg");
  if (law == nullptr) return std::nullopt;
  std::vector<const SweepCell*> cells;
  for (const SweepCell& cell : data.cells) {
    if (cell.done() && cell.record.run.final_eval_loss > 0) cells.push_back(&cell);
  }
  if (cells.empty()) return std::nullopt;
  auto residual = [law](const CellRecord& r) {
    const double n = law->size_variable == "avg"       ? r.run.n_avg
                     : law->size_variable == "initial" ? static_cast<double>(r.run.n_initial)
                                                       : static_cast<double>(r.run.n_final);
    return r.run.final_eval_loss -
           law->law.predict(make_law_point(n, static_cast<double>(r.run.tokens), r.sparsity, 1));
  };
  std::ostringstream s;
  const std::string by_sparsity = style.scatter(
      s, "s", cells, [](const CellRecord& r) { return r.sparsity; }, residual);
  const std::string by_size = style.scatter(
      s, "n", cells, [](const CellRecord& r) { return static_cast<double>(r.run.n_initial); },
      residual);
  Figure figure;
  figure.width = 1100;
  figure.height = 480;
  const SharedKey key(static_cast<int>(style.sparsities().size() + style.sizes().size()), 12,
                      figure.width, figure.height);
  s << "set multiplot title "
    << gnuplot_quote("Residuals of " + enhanced_literal(law->label()) +
                     " (actual - predicted final eval loss)")
    << " font ',13'\n"
    << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n"
    << "set ylabel 'residual (nats/token)'\n"
    << "set arrow 1 from graph 0, first 0 to graph 1, first 0 nohead dt 2 lc rgb '#888888'\n"
    << key.panel(0, 2) << "set xlabel 'final sparsity S'\nset xrange [-0.05:1]\n"
    << "set title 'against sparsity'\nplot NaN notitle" << by_sparsity << "\n"
    << key.panel(1, 2) << "set xlabel 'dense prunable parameters N_{initial}'\n"
    << "set autoscale x\nset logscale x\nset title 'against size'\nplot NaN notitle" << by_size
    << "\n"
    << key.strip(style.sparsity_legend() + ", \\\n  " + style.size_legend()) << "unset multiplot\n";
  figure.name = "fig8-residuals";
  figure.title = "8. Residuals against sparsity and size";
  figure.caption =
      "Each finished run's final eval loss minus the prediction of the best-validated law. "
      "A trend across sparsities means the law's size variable does not capture what "
      "sparsity does; a trend across sizes means its size exponent is off (or the runs are "
      "too short for the smallest sizes).";
  figure.script = s.str();
  return figure;
}

}  // namespace journey
