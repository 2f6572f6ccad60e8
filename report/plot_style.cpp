#include "report/plot_style.h"

#include "report/gnuplot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

namespace journey {
namespace {

// Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies.
const char* const kSparseColors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                     "#E69F00", "#56B4E9", "#8C6D31"};
constexpr int kSparseColorCount = sizeof kSparseColors / sizeof kSparseColors[0];
// Filled circle, square, upward triangle, diamond, downward triangle, pentagon.
const int kPointTypes[] = {7, 5, 9, 13, 11, 15};
constexpr int kPointTypeCount = sizeof kPointTypes / sizeof kPointTypes[0];

void add_unique(std::vector<double>& values, double v) {
  for (double x : values) {
    if (std::fabs(x - v) < 1e-9) return;
  }
  values.push_back(v);
}

int index_of(const std::vector<double>& values, double v) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::fabs(values[i] - v) < 1e-9) return static_cast<int>(i);
  }
  return 0;
}

}  // namespace

PlotStyle::PlotStyle(const SweepData& data) {
  // Sizes ordered by their prunable weights per block and depth, d^2 L, then heads.
  std::vector<std::tuple<int64_t, int64_t, std::string>> sizes;
  for (const SweepCell& cell : data.cells) {
    const CellRecord& r = cell.record;
    add_unique(sparsities_, r.sparsity);
    add_unique(durations_, r.tokens_per_param);
    auto key = std::make_tuple(r.d_model * r.d_model * r.n_layers, r.n_heads, r.size);
    if (std::find(sizes.begin(), sizes.end(), key) == sizes.end()) sizes.push_back(key);
  }
  std::sort(sparsities_.begin(), sparsities_.end());
  std::sort(durations_.begin(), durations_.end());
  std::sort(sizes.begin(), sizes.end());
  for (const auto& s : sizes) sizes_.push_back(std::get<2>(s));
}

std::string PlotStyle::color(double sparsity) const {
  if (sparsity == 0) return "#000000";
  int sparse_index = 0;
  for (double s : sparsities_) {
    if (s == 0) continue;
    if (std::fabs(s - sparsity) < 1e-9) break;
    ++sparse_index;
  }
  return kSparseColors[sparse_index % kSparseColorCount];
}

int PlotStyle::size_rank(const std::string& size) const {
  const auto it = std::find(sizes_.begin(), sizes_.end(), size);
  return it == sizes_.end() ? 0 : static_cast<int>(it - sizes_.begin());
}

int PlotStyle::point_type(const std::string& size) const {
  return kPointTypes[size_rank(size) % kPointTypeCount];
}

int PlotStyle::dash_type(double tokens_per_param) const {
  return 1 + index_of(durations_, tokens_per_param) % 5;
}

std::string PlotStyle::sparsity_legend() const {
  std::string clauses;
  for (double s : sparsities_) {
    if (!clauses.empty()) clauses += ", ";
    clauses += "NaN with points pt 7 ps 1.3 lc rgb '" + color(s) + "' title " +
               gnuplot_quote(sparsity_label(s));
  }
  return clauses;
}

std::string PlotStyle::size_legend() const {
  std::string clauses;
  for (const std::string& size : sizes_) {
    if (!clauses.empty()) clauses += ", ";
    clauses += "NaN with points pt " + std::to_string(point_type(size)) +
               " ps 1.3 lc rgb '#555555' title " + gnuplot_quote(enhanced_literal(size));
  }
  return clauses;
}

std::string PlotStyle::scatter(std::ostringstream& script, const std::string& prefix,
                               const std::vector<const SweepCell*>& cells,
                               const std::function<double(const CellRecord&)>& x,
                               const std::function<double(const CellRecord&)>& y) const {
  std::string clauses;
  int block = 0;
  for (double sparsity : sparsities_) {
    for (const std::string& size : sizes_) {
      std::ostringstream rows;
      for (const SweepCell* cell : cells) {
        const CellRecord& r = cell->record;
        if (r.size != size || std::fabs(r.sparsity - sparsity) > 1e-9) continue;
        rows << data_number(x(r)) << ' ' << data_number(y(r)) << '\n';
      }
      if (rows.str().empty()) continue;
      const std::string name = prefix + std::to_string(block++);
      script << datablock(name, rows.str());
      clauses += ", \\\n  $" + name + " using 1:2 with points pt " +
                 std::to_string(point_type(size)) + " ps 1.5 lc rgb '" + color(sparsity) +
                 "' notitle";
    }
  }
  return clauses;
}

namespace {
constexpr double kTitleTop = 0.93;  // Room above the panels for the figure's title.
}  // namespace

SharedKey::SharedKey(int entries, int longest_title, int width, int height) {
  // kKeyFont (12 points): about 7.5 px a character and 19 px a row; a column holds the longest
  // title and its sample.
  const double column = (longest_title + 8) * 7.5;
  const int per_row = std::max(1, static_cast<int>(0.95 * width / column));
  const int rows = (std::max(entries, 1) + per_row - 1) / per_row;
  strip_ = std::min(0.5, (rows * 19.0 + 20.0) / height);
}

std::string SharedKey::panel(int index, int count, int columns) const {
  if (columns <= 0) columns = count;
  const int rows = (count + columns - 1) / columns;
  const int row = index / columns, column = index % columns;
  const double height = (kTitleTop - strip_) / rows;
  return "unset key\nset origin " + data_number(static_cast<double>(column) / columns) + ", " +
         data_number(strip_ + (rows - 1 - row) * height) + "\nset size " +
         data_number(1.0 / columns) + ", " + data_number(height) + "\n";
}

std::string SharedKey::strip(const std::string& legend) const {
  return "set origin 0, 0\nunset border\nunset tics\nunset xlabel\nunset ylabel\nunset title\n"
         "unset grid\nunset arrow\nunset label\nunset logscale\n"
         "set size noratio 1, " +
         data_number(strip_) +
         "\n"
         "set xrange [0:1]\nset yrange [0:1]\n"
         "set lmargin 0\nset rmargin 0\nset tmargin 0\nset bmargin 0\n"
         "set key center center horizontal box opaque " +
         kKeyFont + " samplen 2.5 width 1\nplot " + legend + "\n";
}

double round_tick_step(double step) {
  const double power = std::pow(10.0, std::floor(std::log10(step)));
  for (const double mantissa : {1.0, 2.0, 5.0}) {
    if (mantissa * power >= step * (1 - 1e-12)) return mantissa * power;
  }
  return 10 * power;
}

std::string sparsity_label(double sparsity) {
  return sparsity == 0 ? "dense" : "S=" + short_number(sparsity, 3);
}

std::string duration_label(double tokens_per_param) {
  return short_number(tokens_per_param, 4) + " tok/param";
}

std::string phases_label(double dense_frac, double prune_end_frac) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f/%.0f/%.0f", 100 * dense_frac,
                100 * (prune_end_frac - dense_frac), 100 * (1 - prune_end_frac));
  return buf;
}

std::string short_number(double x, int digits) {
  if (std::isnan(x)) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", digits, x);
  return buf;
}

std::string data_number(double x) {
  if (!std::isfinite(x)) return "NaN";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.10g", x);
  return buf;
}

std::string datablock(const std::string& name, const std::string& rows) {
  return "$" + name + " << EOD\n" + rows + "EOD\n";
}

std::string enhanced_literal(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string("_^@&{}~\\").find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string gnuplot_lines(const std::vector<std::string>& markup_lines) {
  std::string out;
  for (const std::string& line : markup_lines) {
    out += (out.empty() ? "" : ".\"\\n\".") + gnuplot_quote(line);
  }
  return out.empty() ? "''" : out;
}

AxisScale axis_scale(double max, const std::string& unit) {
  AxisScale scale;
  if (!(max > 0) || !std::isfinite(max)) {
    scale.unit = unit;
    return scale;
  }
  const int exponent = static_cast<int>(std::floor(std::log10(max)));
  if (exponent == 0) {
    scale.unit = unit;
    return scale;
  }
  scale.factor = std::pow(10.0, exponent);
  scale.unit = "10^{" + std::to_string(exponent) + "} " + unit;
  return scale;
}

}  // namespace journey
