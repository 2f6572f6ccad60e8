// The report's figures as gnuplot scripts (report/gnuplot.h renders them). Each builder
// returns nothing when its figure has no data to show (e.g. no cell wrote a history, no
// schedule grid, no fit), so the report only holds figures with content; the report says
// why one is missing.
//
//   1 journey         density against training compute and against step, one line per
//                     (sparsity, schedule, phases) at one size and duration
//   2 losses          training loss per cell against step, one panel per size, eval marked
//   3 collapse        final eval loss against N-bar and against N_final, with the fitted
//                     law at each run's D
//   4 predicted       predicted against actual final loss for each law, with its MAE
//   5 schedule grid   heat maps of final loss over (dense_frac, prune_end_frac)
//   6 equal compute   loss against compute, and sparse - dense at equal compute against
//                     the final-size ratio
//   7 matched pairs   a sparse run and the dense run of its N-bar: raw and smoothed training
//                     curves, eval points, and the difference with its seed-noise band
//   8 residuals       the best law's residuals against sparsity and against size
//   9 frontier        the law's compute-optimal loss with its bootstrap band over the runs'
//                     compute range, dashed and labelled extrapolation beyond it
//  10 matrix sparsity the density of every prunable matrix over training
//
// Cells that are not done are drawn where they have data (partial curves end in a hollow
// marker and carry their status in the key) and are left out of the law figures. No
// errors.
#pragma once

#include <optional>
#include <vector>

#include "report/equal_compute.h"
#include "report/fit_summary.h"
#include "report/gnuplot.h"
#include "report/plot_style.h"
#include "report/schedule_grid.h"
#include "report/sweep_data.h"

namespace journey {

std::optional<Figure> journey_figure(const SweepData& data, const PlotStyle& style);
std::optional<Figure> loss_curves_figure(const SweepData& data, const PlotStyle& style);
// Without a fit: the runs alone, the title saying why there is no law.
std::optional<Figure> collapse_figure(const SweepData& data, const PlotStyle& style,
                                      const FitSummary* fit);
std::optional<Figure> predicted_figure(const SweepData& data, const PlotStyle& style,
                                       const FitSummary& fit);
std::optional<Figure> schedule_grid_figure(const std::vector<GridPanel>& panels);
std::optional<Figure> equal_compute_figure(const SweepData& data, const PlotStyle& style,
                                           const std::vector<EqualComputeRow>& rows,
                                           const FitSummary* fit);
std::optional<Figure> matched_pairs_figure(const SweepData& data, const PlotStyle& style);
// Figure 7's smoothing: the mean of y over [i - half, i + half] (non-finite values skipped;
// NaN where y[i] is not finite), with half = points / 40, at least 1.
int smoothing_half_window(size_t points);
std::vector<double> centred_moving_average(const std::vector<double>& y, int half);
std::optional<Figure> residuals_figure(const SweepData& data, const PlotStyle& style,
                                       const FitSummary* fit);
std::optional<Figure> frontier_figure(const SweepData& data, const PlotStyle& style,
                                      const FitSummary* fit);
std::optional<Figure> matrix_sparsity_figure(const SweepData& data, const PlotStyle& style);

}  // namespace journey
