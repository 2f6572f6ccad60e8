#include "report/schedule_grid.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

namespace journey {
namespace {

bool same(double a, double b) {
  return std::fabs(a - b) < 1e-9;
}

}  // namespace

std::vector<GridPanel> schedule_grid(const SweepData& data) {
  std::vector<std::pair<double, double>> pairs;
  for (const SweepCell& cell : data.cells) {
    const CellRecord& r = cell.record;
    if (r.sparsity == 0) continue;
    bool known = false;
    for (const auto& p : pairs)
      known = known || (same(p.first, r.dense_frac) && same(p.second, r.prune_end_frac));
    if (!known) pairs.emplace_back(r.dense_frac, r.prune_end_frac);
  }
  std::vector<GridPanel> panels;
  if (pairs.size() < 2) return panels;

  for (const SweepCell& cell : data.cells) {
    const CellRecord& r = cell.record;
    if (r.sparsity == 0) continue;
    auto panel = std::find_if(panels.begin(), panels.end(), [&](const GridPanel& p) {
      return p.size == r.size && p.schedule == r.schedule && same(p.sparsity, r.sparsity) &&
             same(p.tokens_per_param, r.tokens_per_param);
    });
    if (panel == panels.end()) {
      GridPanel fresh;
      fresh.size = r.size;
      fresh.schedule = r.schedule;
      fresh.sparsity = r.sparsity;
      fresh.tokens_per_param = r.tokens_per_param;
      panels.push_back(fresh);
      panel = panels.end() - 1;
    }
    auto point = std::find_if(panel->points.begin(), panel->points.end(), [&](const GridPoint& p) {
      return same(p.dense_frac, r.dense_frac) && same(p.prune_end_frac, r.prune_end_frac);
    });
    if (point == panel->points.end()) {
      GridPoint fresh;
      fresh.dense_frac = r.dense_frac;
      fresh.prune_end_frac = r.prune_end_frac;
      panel->points.push_back(fresh);
      point = panel->points.end() - 1;
    }
    point->cells.push_back(&cell);
  }

  std::map<const GridPanel*, double> pooled_squares;
  std::map<const GridPanel*, int> pooled_dof;
  for (GridPanel& panel : panels) {
    std::sort(panel.points.begin(), panel.points.end(), [](const GridPoint& a, const GridPoint& b) {
      return std::tie(a.dense_frac, a.prune_end_frac) < std::tie(b.dense_frac, b.prune_end_frac);
    });
    for (size_t i = 0; i < panel.points.size(); ++i) {
      GridPoint& point = panel.points[i];
      std::vector<double> losses;
      for (const SweepCell* cell : point.cells) {
        if (cell->done()) {
          losses.push_back(cell->record.run.final_eval_loss);
        } else {
          point.status = cell_status_name(cell->record.status);
        }
      }
      const int done = static_cast<int>(losses.size());
      if (done > 0) {
        double sum = 0;
        for (double l : losses) sum += l;
        point.loss = sum / done;
        if (point.status.empty()) point.status = "done";
      }
      if (done > 1) {
        double squares = 0;
        for (double l : losses) squares += (l - point.loss) * (l - point.loss);
        point.seed_sd = std::sqrt(squares / (done - 1));
        pooled_squares[&panel] += squares;
        pooled_dof[&panel] += done - 1;
      }
      if (done > 0 && (panel.best < 0 || point.loss < panel.points[panel.best].loss)) {
        panel.best = static_cast<int>(i);
      }
      if (same(point.dense_frac, 0.25) && same(point.prune_end_frac, 0.75)) {
        panel.reference = static_cast<int>(i);
      }
    }
    if (panel.best >= 0 && panel.reference >= 0) {
      panel.reference_gap = panel.points[panel.reference].loss - panel.points[panel.best].loss;
    }
    if (pooled_dof[&panel] > 0) {
      panel.seed_noise = std::sqrt(pooled_squares[&panel] / pooled_dof[&panel]);
    }
  }
  return panels;
}

bool GridPanel::within_noise_of_best(const GridPoint& p) const {
  if (best < 0 || std::isnan(seed_noise) || std::isnan(p.loss)) return false;
  return p.loss - points[best].loss <= seed_noise;
}

std::string reference_gap_text(const GridPanel& panel) {
  if (panel.reference < 0) return "25/50/25 not in grid";
  if (std::isnan(panel.reference_gap)) return "25/50/25 not done";
  char buf[96];
  std::string text = "25/50/25 is the best";
  if (panel.reference != panel.best) {
    std::snprintf(buf, sizeof buf, "25/50/25 is %+.4f above the best", panel.reference_gap);
    text = buf;
  }
  if (!std::isnan(panel.seed_noise)) {
    std::snprintf(buf, sizeof buf, " (seed noise %.4f%s)", panel.seed_noise,
                  panel.reference == panel.best                               ? ""
                  : panel.within_noise_of_best(panel.points[panel.reference]) ? ": within it"
                                                                              : ": beyond it");
    text += buf;
  }
  return text;
}

}  // namespace journey
