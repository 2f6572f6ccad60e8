// Figure 9: the compute frontier: the fitted N-bar law's lowest loss for each training
// compute C = 6 N-bar D (the dense compute optimum; by the law, any sparsity reaches it at
// the same N-bar), with the 90 % band of its bootstrap resamples filled over the runs'
// compute range only, and dashed and labelled "extrapolation" below and beyond it.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "fit/planner.h"
#include "report/figures.h"

namespace journey {
namespace {

double percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const double at = q * (values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(at));
  const size_t hi = std::min(values.size() - 1, lo + 1);
  return values[lo] + (at - lo) * (values[hi] - values[lo]);
}

// The law's compute-optimal loss at C.
double optimal_loss(const Law& law, double flops) {
  PlanRequest request;
  request.flops = flops;
  return plan_compute(law, request).dense.loss;
}

}  // namespace

std::optional<Figure> frontier_figure(const SweepData& data, const PlotStyle& style,
                                      const FitSummary* fit) {
  const FittedLaw* law = fit ? fit->chinchilla("avg") : nullptr;
  if (law == nullptr) return std::nullopt;
  std::vector<const SweepCell*> cells;
  double c_lo = INFINITY, c_hi = 0;
  for (const SweepCell& cell : data.cells) {
    if (!cell.done() || !(cell.record.run.compute > 0)) continue;
    cells.push_back(&cell);
    c_lo = std::min(c_lo, cell.record.run.compute);
    c_hi = std::max(c_hi, cell.record.run.compute);
  }
  if (cells.empty()) return std::nullopt;

  std::vector<Law> resamples;
  for (const std::vector<double>& d : law->draws) {
    if (d.size() == 5 && d[0] > 0 && d[1] > 0 && d[2] > 0 && d[3] > 0 && d[4] > 0) {
      resamples.push_back(chinchilla_law(d[0], d[1], d[2], d[3], d[4]));
    }
  }
  // The law over [c_lo / 3, c_hi * 100] in three parts: within the fitted runs' compute
  // range the band is filled; below and beyond it the law and the band's edges are dashed,
  // and labelled as an extrapolation, so the band never looks like evidence where there is
  // no data.
  const bool band = resamples.size() >= 10;
  auto rows = [&](double from, double to, int points) {
    std::ostringstream curve;
    for (int i = 0; i <= points; ++i) {
      const double c = std::exp(std::log(from) + (std::log(to) - std::log(from)) * i / points);
      curve << data_number(c) << ' ' << data_number(optimal_loss(law->law, c));
      if (band) {
        std::vector<double> losses;
        for (const Law& r : resamples) losses.push_back(optimal_loss(r, c));
        curve << ' ' << data_number(percentile(losses, 0.05)) << ' '
              << data_number(percentile(losses, 0.95));
      }
      curve << '\n';
    }
    return curve.str();
  };
  std::ostringstream s;
  s << datablock("fitted", rows(c_lo, c_hi, c_hi > c_lo ? 30 : 1))
    << datablock("below", rows(c_lo / 3, c_lo, 8))
    << datablock("beyond", rows(c_hi, c_hi * 100, 24));
  const std::string points = style.scatter(
      s, "r", cells, [](const CellRecord& r) { return r.run.compute; },
      [](const CellRecord& r) { return r.run.final_eval_loss; });
  s << "set title 'The N-bar law''s lowest loss for each compute: 90 % bootstrap band over the "
       "runs'' compute range, dashed beyond it' font ',13'\n"
    << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n"
    << "set logscale x\nset format x '10^{%L}'\n"
    << "set xlabel 'training compute C = 6 N-bar D (FLOP)'\n"
    << "set ylabel 'final eval loss (nats/token)'\n"
    << "set key outside right top box opaque " << kKeyFont << "\n"
    << "set arrow 1 from " << data_number(c_hi) << ", graph 0 to " << data_number(c_hi)
    << ", graph 1 nohead dt 3 lc rgb '#999999'\n"
    << "set arrow 2 from " << data_number(c_lo) << ", graph 0 to " << data_number(c_lo)
    << ", graph 1 nohead dt 3 lc rgb '#999999'\n"
    << "set label 1 'largest run' at " << data_number(c_hi)
    << ", graph 0.95 left offset char 0.5, 0 tc rgb '#777777' font ',9'\n"
    << "set label 2 'extrapolation' at " << data_number(c_hi * 10)
    << ", graph 0.88 center tc rgb '#b00000' font ',12'\n"
    << "plot ";
  if (band) {
    s << "$fitted using 1:3:4 with filledcurves fc rgb '#cccccc' fs solid 0.5 "
         "title 'bootstrap 5-95 % (fitted range)', \\\n  ";
    for (const char* part : {"below", "beyond"}) {
      for (int column : {3, 4}) {
        s << "$" << part << " using 1:" << column
          << " with lines lw 1 dt 2 lc rgb '#999999' notitle, \\\n  ";
      }
    }
    s << "NaN with lines lw 1 dt 2 lc rgb '#999999' title 'band, extrapolation', \\\n  ";
  }
  s << "$fitted using 1:2 with lines lw 2 lc rgb '#444444' title 'fitted law', \\\n  "
    << "$below using 1:2 with lines lw 2 dt 2 lc rgb '#444444' notitle, \\\n  "
    << "$beyond using 1:2 with lines lw 2 dt 2 lc rgb '#444444' title 'law, extrapolation', "
       "\\\n  "
    << style.sparsity_legend() << ", \\\n  " << style.size_legend() << points << "\n";
  Figure figure;
  figure.name = "fig9-frontier";
  figure.title = "9. The compute frontier";
  figure.caption =
      "The fitted N-bar law's lowest loss for each training compute (its dense compute "
      "optimum; by the law, a sparse run of the same N-bar and D reaches the same loss), with "
      "the 5-95 % band of the law refitted on bootstrap resamples of the runs, over the runs "
      "themselves. The band is filled only between the smallest and the largest run's compute "
      "(the dotted lines); outside that range the law and the band's edges are dashed and "
      "labelled extrapolation: the bootstrap only resamples these runs, so it says nothing "
      "about how the law bends where there are none, and a narrow band there is not "
      "reassurance.";
  figure.width = 1100;
  figure.height = 520;
  figure.script = s.str();
  return figure;
}

}  // namespace journey
