// Figures 1 (the journey: density against compute and step) and 2 (loss curves per cell).
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <tuple>

#include "report/figures.h"

namespace journey {
namespace {

bool same(double a, double b) { return std::fabs(a - b) < 1e-9; }

// " (failed at step 40/96)" for a cell that is not done; "" otherwise.
std::string status_suffix(const SweepCell& cell) {
  if (cell.done()) return "";
  const CellRecord& r = cell.record;
  const int64_t reached = cell.history.steps.empty() ? 0 : cell.history.steps.back();
  return std::string(" (") + cell_status_name(r.status) + " at step " + std::to_string(reached) +
         "/" + std::to_string(r.total_steps) + ")";
}

// Where a partial curve stops: a hollow marker in the curve's colour.
std::string end_marker(const std::string& block, const std::string& using_clause,
                       const std::string& color) {
  return block + " every ::(|" + block + "|-1)::(|" + block + "|-1) using " + using_clause +
         " with points pt 6 ps 2 lw 2 lc rgb '" + color + "' notitle";
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
    curves.push_back({cell, label + status_suffix(*cell), 1 + variants_per_sparsity[r.sparsity]++ % 5});
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
  auto plot = [&](const std::string& using_clause, bool titles) {
    std::string clauses;
    for (size_t i = 0; i < curves.size(); ++i) {
      const CellRecord& r = curves[i].cell->record;
      const std::string block = "$c" + std::to_string(i);
      const std::string color = style.color(r.sparsity);
      if (!clauses.empty()) clauses += ", \\\n  ";
      clauses += block + " using " + using_clause + " with lines lw 2.5 dt " +
                 std::to_string(curves[i].dash) + " lc rgb '" + color + "' " +
                 (titles ? "title \"" + gnuplot_text(curves[i].label) + "\"" : "notitle");
      if (!curves[i].cell->done()) clauses += ", \\\n  " + end_marker(block, using_clause, color);
    }
    return "plot " + clauses + "\n";
  };
  s << "set multiplot layout 1,2 title \"The journey: fraction of prunable weights kept, size "
    << gnuplot_text(best->size) << ", " << duration_label(best->tokens_per_param)
    << "\" font ',14'\n"
    << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n"
    << "set yrange [0:1.05]\nset ylabel 'density N_t / N_{initial}'\n"
    << "set xlabel 'cumulative training compute C = {/Symbol S} 6 N_t tokens (" << scale.unit
    << ")'\n"
    << "set key bottom left box opaque font ',10' spacing 1.1\n"
    << plot("1:3", true) << "set xlabel 'step'\nunset key\n" << plot("2:3", false)
    << "unset multiplot\n";

  Figure figure;
  figure.name = "fig1-journey";
  figure.title = "1. The journey: density against compute and against step";
  figure.caption =
      "Density (prunable weights alive over the dense count) for each schedule at size " +
      best->size + " and " + duration_label(best->tokens_per_param) +
      ": left against cumulative training compute, where the phases are fractions of "
      "compute, right against step. Colour: final sparsity; dash: a different schedule or "
      "phase split at the same sparsity. Phases dense/pruning/recovery as percent of compute.";
  figure.width = 1100;
  figure.height = 480;
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

  std::ostringstream s;
  s << "set multiplot layout " << rows << "," << cols
    << " title \"Training loss per cell (lines) and eval loss (filled markers)\" font ',14'\n"
    << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n"
    << "set logscale x\nset xlabel 'step'\nset ylabel 'loss (nats/token)'\n"
    << "set key top right font ',9' spacing 1.0 box opaque\n";
  int block = 0;
  for (const std::string& size : sizes) {
    std::vector<const SweepCell*> cells;
    for (const SweepCell& cell : data.cells) {
      if (cell.record.size == size && !cell.history.empty()) cells.push_back(&cell);
    }
    std::stable_sort(cells.begin(), cells.end(), [](const SweepCell* a, const SweepCell* b) {
      return std::tie(a->record.tokens_per_param, a->record.sparsity) <
             std::tie(b->record.tokens_per_param, b->record.sparsity);
    });
    std::vector<std::string> titled;  // One key entry per (sparsity, duration) and per failure.
    std::string clauses;
    for (const SweepCell* cell : cells) {
      const CellRecord& r = cell->record;
      const CellHistory& h = cell->history;
      const std::string color = style.color(r.sparsity);
      const std::string dash = std::to_string(style.dash_type(r.tokens_per_param));
      std::string label = sparsity_label(r.sparsity) + ", " + duration_label(r.tokens_per_param);
      bool title = std::find(titled.begin(), titled.end(), label) == titled.end();
      if (!cell->done()) {
        label += status_suffix(*cell);
        title = true;
      }
      if (title) titled.push_back(label);
      auto add = [&](const std::string& clause) {
        clauses += (clauses.empty() ? "plot " : ", \\\n  ") + clause;
      };
      if (!h.steps.empty()) {
        std::ostringstream train;
        for (size_t k = 0; k < h.steps.size(); ++k) {
          train << h.steps[k] << ' ' << data_number(h.loss[k]) << '\n';
        }
        const std::string name = "t" + std::to_string(block);
        s << datablock(name, train.str());
        add("$" + name + " using 1:2 with lines lw 1.5 dt " + dash + " lc rgb '" + color + "' " +
            (title ? "title \"" + gnuplot_text(label) + "\"" : "notitle"));
        if (!cell->done()) add(end_marker("$" + name, "1:2", color));
      }
      if (!h.eval_steps.empty()) {
        std::ostringstream eval;
        for (size_t k = 0; k < h.eval_steps.size(); ++k) {
          eval << h.eval_steps[k] << ' ' << data_number(h.eval_loss[k]) << '\n';
        }
        const std::string name = "e" + std::to_string(block);
        s << datablock(name, eval.str());
        add("$" + name + " using 1:2 with points pt " + std::to_string(style.point_type(size)) +
            " ps 1.4 lc rgb '" + color + "' notitle");
      }
      ++block;
    }
    s << "set title \"size " << gnuplot_text(size) << "\"\n" << clauses << "\n";
  }
  s << "unset multiplot\n";

  Figure figure;
  figure.name = "fig2-losses";
  figure.title = "2. Training and eval loss per cell";
  figure.caption =
      "One panel per model size. Lines: training loss of every step (log step axis); filled "
      "markers: eval loss on the fixed validation sequences. Colour: sparsity; dash: duration. "
      "A cell that did not finish ends in a hollow circle and its status is in the key.";
  figure.width = cols == 1 ? 700 : 1200;
  figure.height = 430 * rows + 40;
  figure.script = s.str();
  return figure;
}

}  // namespace journey
