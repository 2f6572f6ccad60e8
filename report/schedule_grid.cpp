#include "report/schedule_grid.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
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

  for (GridPanel& panel : panels) {
    std::sort(panel.points.begin(), panel.points.end(), [](const GridPoint& a, const GridPoint& b) {
      return std::tie(a.dense_frac, a.prune_end_frac) < std::tie(b.dense_frac, b.prune_end_frac);
    });
    for (size_t i = 0; i < panel.points.size(); ++i) {
      GridPoint& point = panel.points[i];
      double sum = 0;
      int done = 0;
      for (const SweepCell* cell : point.cells) {
        if (cell->done()) {
          sum += cell->record.run.final_eval_loss;
          ++done;
        } else {
          point.status = cell_status_name(cell->record.status);
        }
      }
      if (done > 0) {
        point.loss = sum / done;
        if (point.status.empty()) point.status = "done";
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
  }
  return panels;
}

std::string reference_gap_text(const GridPanel& panel) {
  if (panel.reference < 0) return "25/50/25 not in grid";
  if (std::isnan(panel.reference_gap)) return "25/50/25 not done";
  if (panel.reference == panel.best) return "25/50/25 is the best";
  char buf[64];
  std::snprintf(buf, sizeof buf, "25/50/25 is %+.4f above the best", panel.reference_gap);
  return buf;
}

}  // namespace journey
