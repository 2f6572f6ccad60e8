// Figures 1 (the journey: density against compute and step) and 2 (loss curves per cell).
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <tuple>

#include "report/figures.h"

namespace journey {
namespace {

bool same(double a, double b) {
  return std::fabs(a - b) < 1e-9;
}

// " (failed)" for a cell that is not done (the report's table says where and why); ""
// otherwise.
std::string status_suffix(const SweepCell& cell) {
  return cell.done() ? "" : std::string(" (") + cell_status_name(cell.record.status) + ")";
}

// Where a partial curve stops: a hollow marker in the curve's colour on row `row` of the
// datablock (its last drawable point).
std::string end_marker(const std::string& block, const std::string& using_clause,
                       const std::string& color, size_t row) {
  const std::string at = std::to_string(row);
  return block + " every ::" + at + "::" + at + " using " + using_clause +
         " with points pt 6 ps 2 lw 2 lc rgb '" + color + "' notitle";
}

// The last row with a finite value (a diverged run ends in NaN); -1 when there is none.
long last_finite(const std::vector<double>& values) {
  for (size_t i = values.size(); i-- > 0;) {
    if (std::isfinite(values[i])) return static_cast<long>(i);
  }
  return -1;
}

struct Curve {
  const SweepCell* cell;
  std::string label;
  int dash = 1;
};

}  // namespace

std::optional<Figure> journey_figure(const SweepData& data, const PlotStyle& style) {
  // The (size, duration) with the most distinct schedules; ties go to the larger size and
  // the longer run, whose curves are the smoothest.
  struct Group {
    std::string size;
    double tokens_per_param;
    std::vector<const SweepCell*> cells;
  };
  std::vector<Group> groups;
  for (const SweepCell& cell : data.cells) {
    if (cell.history.steps.empty()) continue;
    const CellRecord& r = cell.record;
    auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.size == r.size && same(g.tokens_per_param, r.tokens_per_param);
    });
    if (g == groups.end()) {
      groups.push_back({r.size, r.tokens_per_param, {}});
      g = groups.end() - 1;
    }
    g->cells.push_back(&cell);
  }
  if (groups.empty()) return std::nullopt;

  using Key = std::tuple<double, std::string, double, double>;
  auto key_of = [](const CellRecord& r) {
    return r.sparsity == 0 ? Key{0, "dense", 0, 0}
                           : Key{r.sparsity, r.schedule, r.dense_frac, r.prune_end_frac};
  };
  // One cell per key: a done one first, then the lowest seed.
  auto curves_of = [&](const Group& g) {
    std::map<Key, const SweepCell*> chosen;
    for (const SweepCell* cell : g.cells) {
      const SweepCell*& slot = chosen[key_of(cell->record)];
      if (slot == nullptr || std::make_tuple(!cell->done(), cell->record.seed) <
                                 std::make_tuple(!slot->done(), slot->record.seed)) {
        slot = cell;
      }
    }
    return chosen;
  };
  const Group* best = nullptr;
  size_t best_keys = 0;
  for (const Group& g : groups) {
    const size_t keys = curves_of(g).size();
    auto rank = [&](const Group& x, size_t k) {
      return std::make_tuple(k, style.size_rank(x.size), x.tokens_per_param);
    };
    if (best == nullptr || rank(g, keys) > rank(*best, best_keys)) {
      best = &g;
      best_keys = keys;
    }
  }

  std::vector<Curve> curves;
  std::map<double, int> variants_per_sparsity;
  double max_compute = 0;
  for (const auto& [key, cell] : curves_of(*best)) {
    const CellRecord& r = cell->record;
    std::string label = r.sparsity == 0 ? "dense"
                                        : sparsity_label(r.sparsity) + " " + r.schedule + " " +
                                              phases_label(r.dense_frac, r.prune_end_frac);
    curves.push_back(
        {cell, label + status_suffix(*cell), 1 + variants_per_sparsity[r.sparsity]++ % 5});
    max_compute = std::max(max_compute, cell->history.compute.back());
  }
  const AxisScale scale = axis_scale(max_compute, "FLOP");

  std::ostringstream s;
  for (size_t i = 0; i < curves.size(); ++i) {
    const CellHistory& h = curves[i].cell->history;
    std::ostringstream rows;
    for (size_t k = 0; k < h.steps.size(); ++k) {
      rows << data_number(h.compute[k] / scale.factor) << ' ' << h.steps[k] << ' '
           << data_number(h.density[k]) << '\n';
    }
    s << datablock("c" + std::to_string(i), rows.str());
  }
  auto line_style = [&](const Curve& curve) {
    return "with lines lw 2.5 dt " + std::to_string(curve.dash) + " lc rgb '" +
           style.color(curve.cell->record.sparsity) + "'";
  };
  auto plot = [&](const std::string& using_clause) {
    std::string clauses;
    for (size_t i = 0; i < curves.size(); ++i) {
      const std::string block = "$c" + std::to_string(i);
      if (!clauses.empty()) clauses += ", \\\n  ";
      clauses += block + " using " + using_clause + " " + line_style(curves[i]) + " notitle";
      if (!curves[i].cell->done()) {
        clauses += ", \\\n  " + end_marker(block, using_clause,
                                           style.color(curves[i].cell->record.sparsity),
                                           curves[i].cell->history.steps.size() - 1);
      }
    }
    return "plot " + clauses + "\n";
  };
  std::string legend;
  size_t longest = 0;
  for (const Curve& curve : curves) {
    legend += (legend.empty() ? "" : ", \\\n  ") + std::string("NaN ") + line_style(curve) +
              " title " + gnuplot_quote(enhanced_literal(curve.label));
    longest = std::max(longest, curve.label.size());
  }
  Figure figure;
  figure.width = 1100;
  figure.height = 500;
  const SharedKey key(static_cast<int>(curves.size()), static_cast<int>(longest), figure.width,
                      figure.height);
  s << "set multiplot title "
    << gnuplot_quote("The journey: fraction of prunable weights kept, size " +
                     enhanced_literal(best->size) + ", " + duration_label(best->tokens_per_param))
    << " font ',14'\n"
    << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n"
    << "set yrange [0:1.05]\nset ylabel 'density N_t / N_{initial}'\n"
    << "set xlabel 'cumulative training compute C = {/Symbol S} 6 N_t tokens (" << scale.unit
    << ")'\n"
    << key.panel(0, 2) << plot("1:3") << "set xlabel 'step'\n"
    << key.panel(1, 2) << plot("2:3") << key.strip(legend) << "unset multiplot\n";

  figure.name = "fig1-journey";
  figure.title = "1. The journey: density against compute and against step";
  figure.caption =
      "Density (prunable weights alive over the dense count) for each schedule at size " +
      best->size + " and " + duration_label(best->tokens_per_param) +
      ": left against cumulative training compute, where the phases are fractions of "
      "compute, right against step. Colour: final sparsity; dash: a different schedule or "
      "phase split at the same sparsity. Phases dense/pruning/recovery as percent of compute.";
  figure.script = s.str();
  return figure;
}

std::optional<Figure> loss_curves_figure(const SweepData& data, const PlotStyle& style) {
  std::vector<std::string> sizes;
  for (const std::string& size : style.sizes()) {
    for (const SweepCell& cell : data.cells) {
      if (cell.record.size == size && !cell.history.empty()) {
        sizes.push_back(size);
        break;
      }
    }
  }
  if (sizes.empty()) return std::nullopt;
  const int cols = std::min<int>(3, sizes.size());
  const int rows = (static_cast<int>(sizes.size()) + cols - 1) / cols;

  // The key: a line per (sparsity, duration) drawn, the eval marker, the end of a run that
  // stopped early.
  std::vector<std::pair<double, double>> kinds;
  bool any_open = false;
  for (const SweepCell& cell : data.cells) {
    if (cell.history.empty()) continue;
    const std::pair<double, double> kind{cell.record.tokens_per_param, cell.record.sparsity};
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
    any_open = any_open || !cell.done();
  }
  std::sort(kinds.begin(), kinds.end());
  auto line_style = [&](double sparsity, double duration) {
    return "with lines lw 1.5 dt " + std::to_string(style.dash_type(duration)) + " lc rgb '" +
           style.color(sparsity) + "'";
  };
  std::string legend;
  for (const auto& [duration, sparsity] : kinds) {
    legend += "NaN " + line_style(sparsity, duration) + " title " +
              gnuplot_quote(sparsity_label(sparsity) + ", " + duration_label(duration)) +
              ", \\\n  ";
  }
  legend += "NaN with points pt 7 ps 1.4 lc rgb '#555555' title 'eval loss'";
  if (any_open) {
    legend += ", \\\n  NaN with points pt 6 ps 2 lw 2 lc rgb '#555555' title 'stopped (not done)'";
  }

  Figure figure;
  figure.width = cols == 1 ? 700 : 1200;
  figure.height = 430 * rows + 90;
  const SharedKey key(static_cast<int>(kinds.size()) + 1 + any_open, 20, figure.width,
                      figure.height);
  std::ostringstream s;
  s << "set multiplot title \"Training loss per cell (lines) and eval loss (markers)\" "
       "font ',14'\n"
    << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n"
    << "set logscale x\nset xlabel 'step'\nset ylabel 'loss (nats/token)'\n";
  int block = 0, panel = 0;
  for (const std::string& size : sizes) {
    // Explicit ranges from the finite values: gnuplot refuses to autoscale a panel whose
    // losses are all NaN (a run that diverged at once).
    double x_max = 2, y_lo = INFINITY, y_hi = -INFINITY;
    auto extend = [&](int64_t step, double loss) {
      x_max = std::max(x_max, static_cast<double>(step));
      if (!std::isfinite(loss)) return;
      y_lo = std::min(y_lo, loss);
      y_hi = std::max(y_hi, loss);
    };
    std::string clauses;
    auto add = [&](const std::string& clause) {
      clauses += (clauses.empty() ? "plot " : ", \\\n  ") + clause;
    };
    for (const SweepCell& cell : data.cells) {
      const CellRecord& r = cell.record;
      const CellHistory& h = cell.history;
      if (r.size != size || h.empty()) continue;
      const std::string color = style.color(r.sparsity);
      if (!h.steps.empty()) {
        std::ostringstream train;
        for (size_t k = 0; k < h.steps.size(); ++k) {
          train << h.steps[k] << ' ' << data_number(h.loss[k]) << '\n';
          extend(h.steps[k], h.loss[k]);
        }
        const std::string name = "t" + std::to_string(block);
        s << datablock(name, train.str());
        add("$" + name + " using 1:2 " + line_style(r.sparsity, r.tokens_per_param) + " notitle");
        const long end = last_finite(h.loss);
        if (!cell.done() && end >= 0) add(end_marker("$" + name, "1:2", color, end));
      }
      if (!h.eval_steps.empty()) {
        std::ostringstream eval;
        for (size_t k = 0; k < h.eval_steps.size(); ++k) {
          eval << h.eval_steps[k] << ' ' << data_number(h.eval_loss[k]) << '\n';
          extend(h.eval_steps[k], h.eval_loss[k]);
        }
        const std::string name = "e" + std::to_string(block);
        s << datablock(name, eval.str());
        add("$" + name + " using 1:2 with points pt " + std::to_string(style.point_type(size)) +
            " ps 1.4 lc rgb '" + color + "' notitle");
      }
      ++block;
    }
    if (!(y_lo <= y_hi)) {
      y_lo = 0;
      y_hi = 1;
    }
    const double pad = 0.03 * (y_hi - y_lo) + 1e-3;
    s << key.panel(panel++, static_cast<int>(sizes.size()), cols)
      << "set xrange [1:" << data_number(x_max * 1.05) << "]\nset yrange ["
      << data_number(y_lo - pad) << ":" << data_number(y_hi + pad) << "]\nset title "
      << gnuplot_quote("size " + enhanced_literal(size)) << "\n"
      << clauses << "\n";
  }
  s << key.strip(legend) << "unset multiplot\n";

  figure.name = "fig2-losses";
  figure.title = "2. Training and eval loss per cell";
  figure.caption =
      "One panel per model size. Lines: training loss of every step (log step axis); markers: "
      "eval loss on the fixed validation sequences (marker shape: size). Colour: sparsity; dash: "
      "duration. A cell that did not finish ends in a hollow circle (see the table of cells).";
  figure.script = s.str();
  return figure;
}

}  // namespace journey
