// Figure 7: each matched pair (sweep.matched_dense) as overlaid training curves: the sparse
// run and the dense run of its N-bar on the same tokens. Per pair, an upper panel holds the
// loss against tokens (raw as a faint line, smoothed by a centred moving average as a bold
// one, eval losses as markers) with the sparse run's density on the right axis, and a lower
// panel the smoothed difference sparse - dense: with several seeds of the pair, the mean
// difference and its seed-noise band (mean +- one standard deviation over the seeds); with
// one seed, the one difference and a title that says there is no band.
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "report/figures.h"

namespace journey {
namespace {

constexpr char kMatchPrefix[] = "match-";

std::string rows_of(const std::vector<double>& x, const std::vector<double>& y) {
  std::ostringstream rows;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    rows << data_number(x[i]) << ' ' << data_number(y[i]) << '\n';
  }
  return rows.str();
}

// The id without its "-seed<k>" suffix: the pairs of one configuration over seeds.
std::string without_seed(const std::string& id) {
  const size_t at = id.rfind("-seed");
  return at == std::string::npos ? id : id.substr(0, at);
}

// y at x by linear interpolation in (xs, ys), xs ascending; NaN outside.
double interpolate(const std::vector<double>& xs, const std::vector<double>& ys, double x) {
  const auto it = std::lower_bound(xs.begin(), xs.end(), x);
  if (it == xs.end()) return NAN;
  const size_t i = static_cast<size_t>(it - xs.begin());
  if (xs[i] == x) return ys[i];
  if (i == 0) return NAN;
  const double t = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
  return ys[i - 1] + t * (ys[i] - ys[i - 1]);
}

// Tokens seen at each eval step: the history's tokens per step times the step.
std::vector<double> eval_tokens(const CellHistory& h) {
  std::vector<double> tokens;
  const double per_step =
      h.steps.empty() || h.steps.back() <= 0 ? 0 : h.tokens.back() / h.steps.back();
  for (int64_t step : h.eval_steps) tokens.push_back(per_step * static_cast<double>(step));
  return tokens;
}

struct Pair {
  const SweepCell *sparse, *dense;
};

}  // namespace

int smoothing_half_window(size_t points) {
  return std::max(1, static_cast<int>(points / 40));
}

std::vector<double> centred_moving_average(const std::vector<double>& y, int half) {
  std::vector<double> out(y.size(), NAN);
  for (size_t i = 0; i < y.size(); ++i) {
    const size_t from = i >= static_cast<size_t>(half) ? i - half : 0;
    const size_t to = std::min(y.size() - 1, i + half);
    double sum = 0;
    int n = 0;
    for (size_t j = from; j <= to; ++j) {
      if (std::isfinite(y[j])) {
        sum += y[j];
        ++n;
      }
    }
    if (n > 0 && std::isfinite(y[i])) out[i] = sum / n;
  }
  return out;
}

std::optional<Figure> matched_pairs_figure(const SweepData& data, const PlotStyle& style) {
  // Pairs grouped by configuration (seeds together), in ledger order.
  std::vector<std::string> order;
  std::map<std::string, std::vector<Pair>> groups;
  for (const SweepCell& cell : data.cells) {
    const std::string& id = cell.record.id;
    if (id.rfind(kMatchPrefix, 0) != 0 || cell.history.steps.empty()) continue;
    for (const SweepCell& twin : data.cells) {
      if (twin.record.id == id.substr(sizeof kMatchPrefix - 1) && !twin.history.steps.empty()) {
        const std::string key = without_seed(twin.record.id);
        if (!groups.count(key)) order.push_back(key);
        groups[key].push_back({&twin, &cell});
      }
    }
  }
  if (order.empty()) return std::nullopt;
  const int count = static_cast<int>(order.size());
  const int columns = std::min(3, count);
  const int group_rows = (count + columns - 1) / columns;
  Figure figure;
  figure.width = 420 * columns + 60;
  figure.height = 520 * group_rows + 150;
  const SharedKey key(8, 34, figure.width, figure.height);
  std::ostringstream s;
  s << "set multiplot title 'Matched pairs: a sparse run and the dense run of its N-bar on the "
       "same tokens' font ',14'\n"
    << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n"
    << "set xlabel 'tokens seen'\nset format x '%.0s%c'\n";
  int max_half = 1;
  for (int g = 0; g < count; ++g) {
    const std::vector<Pair>& pairs = groups[order[g]];
    const Pair& p = pairs.front();
    const CellHistory& sh = p.sparse->history;
    const CellHistory& dh = p.dense->history;
    const std::string tag = "p" + std::to_string(g);
    const int half = smoothing_half_window(sh.steps.size());
    max_half = std::max(max_half, half);
    const std::string color = style.color(p.sparse->record.sparsity);
    // gnuplot's #AARRGGBB: AA = 0xA0 is mostly transparent, so the raw curves are faint.
    const std::string faint = "#A0" + color.substr(1);
    s << datablock(tag + "s", rows_of(sh.tokens, sh.loss))
      << datablock(tag + "S", rows_of(sh.tokens, centred_moving_average(sh.loss, half)))
      << datablock(tag + "d", rows_of(dh.tokens, dh.loss))
      << datablock(tag + "D",
                   rows_of(dh.tokens,
                           centred_moving_average(dh.loss, smoothing_half_window(dh.steps.size()))))
      << datablock(tag + "n", rows_of(sh.tokens, sh.density))
      << datablock(tag + "e", rows_of(eval_tokens(sh), sh.eval_loss))
      << datablock(tag + "f", rows_of(eval_tokens(dh), dh.eval_loss));

    // The smoothed difference of every seed's pair on the first pair's tokens.
    std::vector<std::vector<double>> differences;
    for (const Pair& q : pairs) {
      const CellHistory& a = q.sparse->history;
      const CellHistory& b = q.dense->history;
      const std::vector<double> sa =
          centred_moving_average(a.loss, smoothing_half_window(a.steps.size()));
      const std::vector<double> sb =
          centred_moving_average(b.loss, smoothing_half_window(b.steps.size()));
      std::vector<double> diff;
      for (double t : sh.tokens)
        diff.push_back(interpolate(a.tokens, sa, t) - interpolate(b.tokens, sb, t));
      differences.push_back(diff);
    }
    std::ostringstream band;
    for (size_t i = 0; i < sh.tokens.size(); ++i) {
      double sum = 0, squares = 0;
      int n = 0;
      for (const auto& d : differences) {
        if (!std::isfinite(d[i])) continue;
        sum += d[i];
        ++n;
      }
      const double mean = n > 0 ? sum / n : NAN;
      for (const auto& d : differences) {
        if (std::isfinite(d[i])) squares += (d[i] - mean) * (d[i] - mean);
      }
      const double sd = n > 1 ? std::sqrt(squares / (n - 1)) : NAN;
      band << data_number(sh.tokens[i]) << ' ' << data_number(mean) << ' ' << data_number(mean - sd)
           << ' ' << data_number(mean + sd) << '\n';
    }
    s << datablock(tag + "x", band.str());

    const CellRecord& r = p.sparse->record;
    double gap = NAN;
    if (p.sparse->done() && p.dense->done()) {
      gap = r.run.final_eval_loss - p.dense->record.run.final_eval_loss;
    }
    // At most five tick labels a panel: gnuplot's own choice crowds a 400-pixel axis.
    const double tokens = sh.tokens.empty() ? 1 : sh.tokens.back();
    const int loss_panel = (2 * (g / columns)) * columns + g % columns;
    s << key.panel(loss_panel, 2 * group_rows * columns, columns) << "set xtics "
      << data_number(round_tick_step(tokens / 4)) << "\nset title "
      << gnuplot_lines(
             {enhanced_literal(r.size) + " " + sparsity_label(r.sparsity) + ", " +
                  duration_label(r.tokens_per_param),
              "dense twin " + enhanced_literal(p.dense->record.size) +
                  (std::isnan(gap) ? std::string() : ": eval gap " + short_number(gap, 2))})
      << " font ',10'\n"
      << "set ylabel 'training loss'\nset y2label 'density of the sparse run'\n"
      << "set y2range [0:1.05]\nset ytics nomirror\nset y2tics 0.25\nset autoscale y\n"
      << "plot $" << tag << "s using 1:2 with lines lw 1 lc rgb '" << faint << "' notitle, \\\n  $"
      << tag << "d using 1:2 with lines lw 1 lc rgb '#A0000000' notitle, \\\n  $" << tag
      << "n using 1:2 axes x1y2 with lines lw 1 lc rgb '#999999' dt 3 notitle, \\\n  $" << tag
      << "S using 1:2 with lines lw 2.5 lc rgb '" << color << "' notitle, \\\n  $" << tag
      << "D using 1:2 with lines lw 2.5 lc rgb '#000000' dt 2 notitle, \\\n  $" << tag
      << "e using 1:2 with points pt 7 ps 1.3 lc rgb '" << color << "' notitle, \\\n  $" << tag
      << "f using 1:2 with points pt 6 ps 1.3 lc rgb '#000000' notitle\n";

    const int seeds = static_cast<int>(pairs.size());
    s << key.panel(loss_panel + columns, 2 * group_rows * columns, columns)
      << "unset y2label\nunset y2tics\nset ytics mirror\nset ylabel 'sparse - dense (smoothed)'\n"
      << "set title "
      << gnuplot_quote(seeds > 1 ? "difference: mean of " + std::to_string(seeds) +
                                       " seeds, band +-1 sd (seed noise)"
                                 : "difference: one seed, so no seed-noise band")
      << " font ',10'\n"
      << "set yrange [*<0:0<*]\n"  // Always holding 0, where the arrow is drawn.
      << "set arrow 1 from graph 0, first 0 to graph 1, first 0 nohead dt 2 lc rgb '#888888'\n"
      << "plot ";
    if (seeds > 1) {
      s << "$" << tag << "x using 1:3:4 with filledcurves fc rgb '" << color
        << "' fs transparent solid 0.25 noborder notitle, \\\n  ";
    }
    s << "$" << tag << "x using 1:2 with lines lw 2 lc rgb '" << color << "' notitle\n"
      << "unset arrow 1\n";
  }
  s << key.strip("NaN with lines lw 1 lc rgb '#A0" + style.color(0.8).substr(1) +
                 "' title 'raw training loss', NaN with lines lw 2.5 lc rgb '" + style.color(0.8) +
                 "' title 'sparse run, smoothed', NaN with lines lw 2.5 lc rgb '#000000' dt 2 "
                 "title 'dense run of its N-bar, smoothed', NaN with points pt 7 ps 1.3 lc rgb "
                 "'#000000' title 'eval loss (sparse filled)', NaN with lines lw 1 lc rgb "
                 "'#999999' dt 3 title 'density (right axis)', NaN with filledcurves fc rgb '" +
                 style.color(0.8) +
                 "' fs transparent solid 0.25 noborder title 'seed noise of the difference'")
    << "unset multiplot\n";
  figure.name = "fig7-matched-pairs";
  figure.title = "7. Matched pairs";
  figure.caption =
      "Each pair of panels shows a sparse run (25/50/25 of compute, its colour its sparsity) "
      "and the dense run whose prunable parameter count equals the sparse run's N-bar, "
      "trained on the same tokens (sweep.matched_dense); the law predicts the same final "
      "loss for the two, and the title gives the final eval loss of sparse minus dense. "
      "Upper panel: training loss, raw as thin faint lines and smoothed by a centred moving "
      "average over 2h+1 logged steps (h = 1/40 of the run's steps, at least 1; here h is up "
      "to " +
      std::to_string(max_half) +
      ") as bold lines; eval losses are markers (filled: sparse, hollow: dense); the dotted "
      "grey line is the sparse run's density on the right axis. Lower panel: the smoothed "
      "difference sparse - dense; when the pair was run with several seeds, the line is the "
      "mean over seeds and the band one standard deviation either side (seed noise: a "
      "difference inside it is not a finding); with one seed the panel says so and has no "
      "band.";
  figure.script = s.str();
  return figure;
}

}  // namespace journey
