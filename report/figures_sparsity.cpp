// Figure 10: the density of every prunable matrix over training, for the sparsest cell of
// the largest size: one global threshold prunes matrices at very different rates, some to
// 99 % and more, which the overall density hides.
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "report/figures.h"

namespace journey {
namespace {

// The matrix type of a name: "wq" of "layers.3.wq", "head" of "head".
std::string matrix_type(const std::string& name) {
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

// Okabe-Ito, then grey: one colour per matrix type.
const char* const kTypeColors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                   "#E69F00", "#56B4E9", "#8C6D31", "#555555"};

}  // namespace

std::optional<Figure> matrix_sparsity_figure(const SweepData& data, const PlotStyle& style) {
  const SweepCell* chosen = nullptr;
  for (const SweepCell& cell : data.cells) {
    if (cell.sparsity.steps.empty()) continue;
    const CellRecord& r = cell.record;
    if (chosen == nullptr || r.sparsity > chosen->record.sparsity ||
        (r.sparsity == chosen->record.sparsity &&
         style.size_rank(r.size) > style.size_rank(chosen->record.size))) {
      chosen = &cell;
    }
  }
  if (chosen == nullptr) return std::nullopt;
  const MatrixDensities& d = chosen->sparsity;
  std::vector<std::string> types;
  for (const std::string& name : d.names) {
    if (std::find(types.begin(), types.end(), matrix_type(name)) == types.end()) {
      types.push_back(matrix_type(name));
    }
  }
  std::ostringstream s;
  Figure figure;
  figure.width = 1100;
  figure.height = 560;
  const SharedKey key(static_cast<int>(types.size()) + 1, 28, figure.width, figure.height);
  s << "set multiplot title "
    << gnuplot_quote("Density of each prunable matrix over training: " +
                     enhanced_literal(chosen->record.id))
    << " font ',13'\n"
    << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n"
    << "set xlabel 'step'\nset ylabel 'density (fraction of the matrix kept)'\n"
    << "set logscale y\nset yrange [0.001:1.2]\n";
  // Left: every matrix, coloured by type. Right: each matrix's final density by layer.
  std::string clauses = "plot NaN notitle";
  std::map<std::string, std::vector<std::pair<int, double>>> final_by_type;
  for (size_t m = 0; m < d.names.size(); ++m) {
    std::ostringstream rows;
    rows << "0 1\n";
    for (size_t e = 0; e < d.steps.size(); ++e) {
      // Fully pruned matrices are drawn at the axis floor rather than left out.
      rows << d.steps[e] << ' ' << data_number(std::max(d.density[e][m], 0.001)) << '\n';
    }
    const std::string name = "m" + std::to_string(m);
    s << datablock(name, rows.str());
    const size_t t = std::find(types.begin(), types.end(), matrix_type(d.names[m])) - types.begin();
    clauses += ", \\\n  $" + name + " using 1:2 with steps lw 1.2 lc rgb '" + kTypeColors[t % 8] +
               "' notitle";
    int layer = -1;
    if (d.names[m].rfind("layers.", 0) == 0) layer = std::atoi(d.names[m].c_str() + 7);
    final_by_type[matrix_type(d.names[m])].push_back({layer, d.density.back()[m]});
  }
  s << key.panel(0, 2) << "set title 'every matrix (overall: the schedule)'\n" << clauses << "\n";
  s << "set xlabel 'layer (-1: LM head)'\nset xtics 1\nset offsets 0.4, 0.4, 0, 0\n"
    << "set title 'final density by layer'\n";
  std::string right = "plot NaN notitle";
  for (size_t t = 0; t < types.size(); ++t) {
    std::ostringstream rows;
    for (const auto& [layer, density] : final_by_type[types[t]]) {
      rows << layer << ' ' << data_number(std::max(density, 0.001)) << '\n';
    }
    s << datablock("f" + std::to_string(t), rows.str());
    right += ", \\\n  $f" + std::to_string(t) + " using 1:2 with linespoints pt 7 ps 1.2 lc rgb '" +
             kTypeColors[t % 8] + "' notitle";
  }
  s << key.panel(1, 2) << right << "\n";
  std::string legend;
  for (size_t t = 0; t < types.size(); ++t) {
    legend += (legend.empty() ? "" : ", ") + std::string("NaN with lines lw 2 lc rgb '") +
              kTypeColors[t % 8] + "' title " + gnuplot_quote(enhanced_literal(types[t]));
  }
  s << key.strip(legend) << "unset multiplot\n";
  figure.name = "fig10-matrix-sparsity";
  figure.title = "10. Sparsity of each matrix";
  figure.caption =
      "The sparsest cell of the largest size: the density of every prunable matrix after each "
      "pruning event (left, log scale; a matrix pruned away entirely sits at the bottom) and "
      "each matrix's final density by layer (right). One global magnitude threshold removes "
      "matrices at very different rates: with the query scale folded into initialisation, the "
      "query projections start smallest and go first (prune.exclude keeps chosen matrices "
      "dense).";
  figure.script = s.str();
  return figure;
}

}  // namespace journey
