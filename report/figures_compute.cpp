// Figure 6: sparse against dense at equal compute, and the final-size savings.
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "fit/planner.h"
#include "report/figures.h"

namespace journey {

std::optional<Figure> equal_compute_figure(const SweepData& data, const PlotStyle& style,
                                           const std::vector<EqualComputeRow>& rows,
                                           const FitSummary* fit) {
  std::vector<const SweepCell*> cells;
  double c_lo = INFINITY, c_hi = 0;
  bool any_dense = false;
  for (const SweepCell& cell : data.cells) {
    if (!cell.done() || !(cell.record.run.compute > 0)) continue;
    cells.push_back(&cell);
    any_dense = any_dense || cell.record.sparsity == 0;
    c_lo = std::min(c_lo, cell.record.run.compute);
    c_hi = std::max(c_hi, cell.record.run.compute);
  }
  if (cells.empty() || rows.empty() || !any_dense) return std::nullopt;

  std::ostringstream s;
  s << "set multiplot title \"Sparse against dense at equal training compute\" font ',14'\n"
    << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n"
    << "set logscale x\nset format x '10^{%L}'\n"
    << "set xlabel 'training compute C = 6 N-bar D (FLOP)'\n"
    << "set ylabel 'final eval loss (nats/token)'\n";

  // Left: every done cell against compute; dense cells of one duration joined by a line.
  std::string legend = style.sparsity_legend() + ", \\\n  " + style.size_legend();
  int entries = static_cast<int>(style.sparsities().size() + style.sizes().size());
  size_t longest = 8;
  std::string left = "plot NaN notitle";
  for (double duration : style.durations()) {
    std::map<double, std::pair<double, int>> by_compute;  // mean loss of dense cells per C
    for (const SweepCell* cell : cells) {
      const CellRecord& r = cell->record;
      if (r.sparsity != 0 || std::fabs(r.tokens_per_param - duration) > 1e-9) continue;
      auto& [sum, n] = by_compute[r.run.compute];
      sum += r.run.final_eval_loss;
      ++n;
    }
    if (by_compute.empty()) continue;
    std::ostringstream line;
    for (const auto& [c, mean] : by_compute) {
      line << data_number(c) << ' ' << data_number(mean.first / mean.second) << '\n';
    }
    const std::string name = "dense" + std::to_string(style.dash_type(duration));
    s << datablock(name, line.str());
    const std::string line_style =
        "with lines lw 1.5 lc rgb '#000000' dt " + std::to_string(style.dash_type(duration));
    left += ", \\\n  $" + name + " using 1:2 " + line_style + " notitle";
    const std::string title = "dense runs, " + duration_label(duration);
    legend += ", \\\n  NaN " + line_style + " title " + gnuplot_quote(title);
    ++entries;
    longest = std::max(longest, title.size());
  }
  if (const FittedLaw* law = fit ? fit->chinchilla("avg") : nullptr) {
    std::ostringstream curve;
    const double lo = std::log(c_lo / 2), hi = std::log(c_hi * 2);
    for (int i = 0; i <= 40; ++i) {
      PlanRequest request;
      request.flops = std::exp(lo + (hi - lo) * i / 40);
      curve << data_number(request.flops) << ' '
            << data_number(plan_compute(law->law, request).dense.loss) << '\n';
    }
    s << datablock("optimal", curve.str());
    left += ", \\\n  $optimal using 1:2 with lines lw 2 lc rgb '#888888' notitle";
    legend += ", \\\n  NaN with lines lw 2 lc rgb '#888888' title 'law: compute-optimal dense'";
    ++entries;
    longest = std::max<size_t>(longest, 26);
  }
  left += style.scatter(
      s, "c", cells, [](const CellRecord& r) { return r.run.compute; },
      [](const CellRecord& r) { return r.run.final_eval_loss; });
  Figure figure;
  figure.width = 1200;
  figure.height = 520;
  const SharedKey key(entries, static_cast<int>(longest), figure.width, figure.height);
  s << key.panel(0, 2) << "set title 'final loss against compute'\n" << left << "\n";

  // Right: each sparse cell against the dense run of equal compute interpolated from the
  // runs, where there is one.
  std::vector<const SweepCell*> compared;
  std::map<std::string, const EqualComputeRow*> row_of;  // By cell id.
  for (const EqualComputeRow& row : rows) {
    if (!row.has_reference) continue;
    compared.push_back(row.sparse);
    row_of[row.sparse->record.id] = &row;
  }
  s << "set xlabel 'N_{final} / N of the dense run of equal compute'\n"
    << "set ylabel 'loss difference, sparse - dense (nats/token)'\n"
    << "set title 'below 0: sparse reaches a lower loss for the same compute'\n";
  s << key.panel(1, 2)
    << "set arrow 1 from graph 0, first 0 to graph 1, first 0 nohead dt 2 "
       "lc rgb '#888888'\n";
  std::string right = "plot NaN notitle";
  if (compared.empty()) {
    s << "set xrange [0.1:1]\nset yrange [-1:1]\n"
      << "set label 1 \"no sparse cell lies within the dense runs' compute range\" at graph "
         "0.5, 0.5 center\n";
  } else {
    // Autoscaled, but always holding 0 (minimum at most 0, maximum at least 0): an arrow at
    // y = 0 outside the range would be drawn outside the panel.
    s << "set yrange [*<0:0<*]\n";
    right += style.scatter(
        s, "r", compared, [&](const CellRecord& r) { return row_of.at(r.id)->final_size_ratio; },
        [&](const CellRecord& r) { return row_of.at(r.id)->loss_difference; });
  }
  s << right << "\n" << key.strip(legend) << "unset multiplot\n";

  figure.name = "fig6-equal-compute";
  figure.title = "6. Sparse against dense at equal compute, and the final-size savings";
  figure.caption =
      "Left: every done cell's final eval loss against its training compute C; the dense "
      "runs of each duration are joined, and the grey curve is the fitted N-bar law's "
      "compute-optimal dense loss (when there is a fit). Right: each sparse cell against a "
      "dense run of the same duration and the same compute, interpolated in log C between "
      "the dense runs around it: the loss difference against how small the sparse model ends "
      "relative to that dense model. Sparse cells outside the dense runs' compute range are "
      "listed in the table below without a reference. Compute here is C = 6 N-bar D, the "
      "weights alive at each step; the sparse runs execute dense matrix products with masked "
      "weights, 6 P D (P the dense prunable count), which the table lists beside C: at equal "
      "C a sparse run executed more than its dense reference.";
  figure.script = s.str();
  return figure;
}

}  // namespace journey
