// Figure 5: heat maps of the final loss over the schedule grid (dense_frac, prune_end_frac).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "report/figures.h"

namespace journey {
namespace {

// Half the smallest gap between distinct values (the half-width of a cell's box); 0.05 when
// there is a single value.
double half_gap(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  double gap = INFINITY;
  for (size_t i = 1; i < values.size(); ++i) {
    if (values[i] - values[i - 1] > 1e-9) gap = std::min(gap, values[i] - values[i - 1]);
  }
  return std::isfinite(gap) ? gap / 2 : 0.05;
}

std::string box(const GridPoint& p) {
  return data_number(p.dense_frac) + ' ' + data_number(p.prune_end_frac);
}

}  // namespace

std::optional<Figure> schedule_grid_figure(const std::vector<GridPanel>& panels) {
  if (panels.empty()) return std::nullopt;
  const int cols = std::min<int>(3, panels.size());
  const int rows = (static_cast<int>(panels.size()) + cols - 1) / cols;
  std::ostringstream s;
  s << "set multiplot layout " << rows << "," << cols
    << " title \"Final eval loss over the schedule grid (seeds averaged; outlined: best, "
       "dashed: 25/50/25)\" font ',14'\n"
    << "set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21908d', 0.75 '#5dc963', "
       "1 '#fde725')\n"
    << "set style textbox opaque noborder fc rgb '#ffffff'\n"
    << "set xlabel 'dense fraction c_s (pruning starts)'\n"
    << "set ylabel 'prune end fraction c_e'\n"
    << "set cblabel 'loss (nats/token)'\nset cbtics font ',11'\n"
    << "set key below font ',11' horizontal\n"
    << "set grid front lc rgb '#cccccc'\n";
  int index = 0;
  for (const GridPanel& panel : panels) {
    std::vector<double> xs, ys;
    for (const GridPoint& p : panel.points) {
      xs.push_back(p.dense_frac);
      ys.push_back(p.prune_end_frac);
    }
    const double hx = half_gap(xs), hy = half_gap(ys);
    const std::string prefix = "g" + std::to_string(index++) + "_";
    std::ostringstream done, open, best, reference, noise;
    for (size_t i = 0; i < panel.points.size(); ++i) {
      const GridPoint& p = panel.points[i];
      if (std::isnan(p.loss)) {
        open << box(p) << " \"" << p.status << "\"\n";
      } else {
        // The seeds' spread, -1 when there is a single seed.
        done << box(p) << ' ' << data_number(p.loss) << ' '
             << data_number(std::isnan(p.seed_sd) ? -1.0 : p.seed_sd) << '\n';
      }
      if (static_cast<int>(i) == panel.best) best << box(p) << '\n';
      if (static_cast<int>(i) != panel.best && panel.within_noise_of_best(p)) {
        noise << box(p) << '\n';
      }
      if (static_cast<int>(i) == panel.reference) reference << box(p) << '\n';
    }
    const std::string half = "(" + data_number(hx) + "):(" + data_number(hy) + ")";
    std::string clauses;
    auto add = [&](const std::string& name, const std::string& rows, const std::string& clause) {
      if (rows.empty()) return;
      s << datablock(prefix + name, rows);
      clauses += (clauses.empty() ? "plot " : ", \\\n  ") + ("$" + prefix + name) + clause;
    };
    add("done", done.str(),
        " using 1:2:" + half +
            ":3 with boxxyerror fc palette fs solid 1.0 border lc rgb "
            "'#ffffff' notitle, $" +
            prefix +
            "done using 1:2:($4 >= 0 ? sprintf(\"%.4f\\n{/=7 ±%.2g}\", $3, $4) : "
            "sprintf(\"%.4f\", $3)) with labels boxed font ',9' notitle");
    add("open", open.str(),
        " using 1:2:" + half +
            " with boxxyerror fs pattern 4 lc rgb '#999999' title 'not done',"
            " $" +
            prefix + "open using 1:2:3 with labels boxed font ',9' notitle");
    add("best", best.str(),
        " using 1:2:" + half + " with boxxyerror fs empty lw 3 lc rgb '#000000' title 'best'");
    add("noise", noise.str(),
        " using 1:2:" + half +
            " with boxxyerror fs empty lw 2 dt 3 lc rgb '#000000' "
            "title 'within seed noise of the best'");
    add("ref", reference.str(),
        " using 1:2:" + half +
            " with boxxyerror fs empty lw 2 dt 2 lc rgb '#d62728' "
            "title '25/50/25'");
    const double x0 = *std::min_element(xs.begin(), xs.end()) - hx,
                 x1 = *std::max_element(xs.begin(), xs.end()) + hx,
                 y0 = *std::min_element(ys.begin(), ys.end()) - hy,
                 y1 = *std::max_element(ys.begin(), ys.end()) + hy;
    s << "set xrange [" << data_number(x0) << ":" << data_number(x1) << "]\n"
      << "set yrange [" << data_number(y0) << ":" << data_number(y1) << "]\n"
      << "set title "
      << gnuplot_lines({enhanced_literal(panel.size + " " + panel.schedule) + " " +
                            sparsity_label(panel.sparsity) + ", " +
                            duration_label(panel.tokens_per_param),
                        reference_gap_text(panel)})
      << " font ',10'\n"
      << clauses << "\n";
  }
  s << "unset multiplot\n";

  Figure figure;
  figure.name = "fig5-schedule-grid";
  figure.title = "5. Schedule sweep: final loss over the phase grid";
  figure.caption =
      "One heat map per size, schedule, sparsity and duration: each box is a (dense_frac, "
      "prune_end_frac) pair, pruning from c_s to c_e of compute, its colour and number the "
      "final eval loss (mean over seeds). The best pair is outlined in black; the paper's "
      "25/50/25 split is dashed in red and its gap to the best is in the panel title. Hatched "
      "boxes are cells that did not finish.";
  figure.width = std::max(cols * 490 + 40, 900);  // Room for the title over a single panel.
  figure.height = rows * 420 + 40;
  figure.script = s.str();
  return figure;
}

}  // namespace journey
