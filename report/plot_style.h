// The report's visual language, the same in every figure: a colour per sparsity (dense
// black, sparse from the Okabe-Ito colour-blind-safe palette in increasing sparsity), a
// marker shape per model size (in increasing size; filled for finished cells, hollow for
// failed or partial ones), a dash pattern per duration (tokens per parameter), plus the
// labels and number formats the figures and tables share.
//
// Also the small gnuplot helpers every figure uses: inline datablocks and legend-only
// entries. No errors.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "report/sweep_data.h"

namespace journey {

class PlotStyle {
 public:
  explicit PlotStyle(const SweepData& data);

  const std::vector<double>& sparsities() const { return sparsities_; }
  const std::vector<std::string>& sizes() const { return sizes_; }  // Smallest first.
  const std::vector<double>& durations() const { return durations_; }

  std::string color(double sparsity) const;                     // "#rrggbb"
  int point_type(const std::string& size) const;                // gnuplot pt, filled
  static int hollow(int point_type) { return point_type - 1; }  // gnuplot's open twin
  int dash_type(double tokens_per_param) const;                 // gnuplot dt
  int size_rank(const std::string& size) const;                 // Index in sizes()

  // Legend-only entries (NaN plots) explaining colours, markers and dashes, as gnuplot
  // plot clauses joined by ", ".
  std::string sparsity_legend() const;
  std::string size_legend() const;

  // Draws `cells` as points at (x, y): one datablock per (sparsity, size), appended to
  // `script`, so each gets its colour and marker. Returns the plot clauses, each starting
  // with ", \\\n  " (to follow other clauses), all without a key entry.
  std::string scatter(std::ostringstream& script, const std::string& prefix,
                      const std::vector<const SweepCell*>& cells,
                      const std::function<double(const CellRecord&)>& x,
                      const std::function<double(const CellRecord&)>& y) const;

 private:
  std::vector<double> sparsities_;
  std::vector<std::string> sizes_;
  std::vector<double> durations_;
};

// gnuplot's font clause for every key: the report's 12-point text (smaller keys were hard to
// read at the report's width; the Chromium test checks the displayed size).
inline constexpr const char* kKeyFont = "font ',12'";

// The key of a figure whose side-by-side panels share it, in a strip along the bottom, so
// it never hides data and every panel keeps the same size (gnuplot's own key is bounded by
// one panel's width). The strip is as high as the entries need, estimated from their count
// and longest title for a figure of width x height pixels. Inside `set multiplot` without
// a layout, panel(i, n, columns) places panel i of n, row by row in `columns` columns
// (default: one row; call before each panel's plot; panels draw no key), and
// strip(clauses) draws the legend-only plot clauses as the key.
class SharedKey {
 public:
  SharedKey(int entries, int longest_title, int width, int height);
  std::string panel(int index, int count, int columns = 0) const;
  std::string strip(const std::string& legend) const;

 private:
  double strip_ = 0.1;  // Height of the strip, as a fraction of the figure.
};

// The smallest 1, 2 or 5 times a power of ten that is at least `step` (> 0): a tick spacing
// people read at a glance.
double round_tick_step(double step);

// "dense" or "S=0.8".
std::string sparsity_label(double sparsity);
// "4 tok/param".
std::string duration_label(double tokens_per_param);
// Phases as percentages of compute, dense/pruning/recovery: "25/50/25".
std::string phases_label(double dense_frac, double prune_end_frac);
// A compact number for labels and tables: %.4g, or "-" for NaN.
std::string short_number(double x, int digits = 4);
// A number for gnuplot data: %.10g, NaN as "NaN".
std::string data_number(double x);

// "$name << EOD\n" + rows + "EOD\n": gnuplot's inline data.
std::string datablock(const std::string& name, const std::string& rows);

// Every string the report gives gnuplot is a single-quoted literal made by gnuplot_quote()
// (report/gnuplot.h):
// gnuplot substitutes backquoted commands and macros inside double quotes, never inside
// single quotes, so text from a sweep directory (cell ids, sizes, fit labels) cannot run
// anything. Text that must print as itself also goes through enhanced_literal().

// `text` with enhanced-text markup characters (_ ^ @ & { } ~ \) escaped so they print as
// themselves, for use inside gnuplot_quote().
std::string enhanced_literal(const std::string& text);
// Lines as one gnuplot string expression: 'first'."\n".'second'.
std::string gnuplot_lines(const std::vector<std::string>& markup_lines);

// Scales for a linear axis whose values reach `max`: the power of ten to divide by, as
// "1e11", and the unit label "10^{11} FLOP" (for `unit` "FLOP").
struct AxisScale {
  double factor = 1;
  std::string unit;
};
AxisScale axis_scale(double max, const std::string& unit);

}  // namespace journey
