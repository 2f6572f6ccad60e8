// The schedule sweep: how the final loss depends on where pruning starts and ends.
//
// A sweep is a schedule sweep when its sparse cells hold more than one (dense_frac,
// prune_end_frac) pair. Its cells are then grouped into panels of equal size, schedule,
// sparsity and duration (seeds pooled: a pair's loss is the mean over its done seeds).
// Each panel names its best pair (lowest loss among done cells) and the paper's default,
// 25/50/25 (dense_frac 0.25, prune_end_frac 0.75): its loss gap to the best, or that it is
// not in the grid. Cells that are not done appear in their panel without a loss. With
// several seeds, each point has its seed spread and the panel a pooled seed noise: the band
// within which a point cannot be told from the best. No errors.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "report/sweep_data.h"

namespace journey {

struct GridPoint {
  double dense_frac = 0, prune_end_frac = 0;
  double loss = std::numeric_limits<double>::quiet_NaN();  // Mean over done seeds; NaN if none.
  // Sample standard deviation over done seeds; NaN with fewer than two.
  double seed_sd = std::numeric_limits<double>::quiet_NaN();
  std::vector<const SweepCell*> cells;
  std::string status;  // "done", or the status of a cell that is not (e.g. "failed").
};

struct GridPanel {
  std::string size, schedule;
  double sparsity = 0, tokens_per_param = 0;
  std::vector<GridPoint> points;  // Sorted by (dense_frac, prune_end_frac).
  int best = -1;                  // Index in points, -1 when none is done.
  int reference = -1;             // The 25/50/25 point, -1 when not in the grid.
  double reference_gap = std::numeric_limits<double>::quiet_NaN();  // Its loss - best loss.
  // Seed noise: the pooled standard deviation of the points with two or more seeds (NaN
  // without seeds); points within it of the best are not distinguishable from the best.
  double seed_noise = std::numeric_limits<double>::quiet_NaN();
  bool within_noise_of_best(const GridPoint& p) const;
};

// The panels, in the order of their first cell in the ledger; empty for a sweep with a
// single phase pair.
std::vector<GridPanel> schedule_grid(const SweepData& data);

// Whether the 25/50/25 cell is in the panel, and its gap: "+0.0123 above the best",
// "the best", "not in grid" or "not done".
std::string reference_gap_text(const GridPanel& panel);

}  // namespace journey
