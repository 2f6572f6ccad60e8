#include "schedules/grid.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <optional>
#include <set>
#include <utility>

#include "common/error.h"
#include "common/sweep_axes.h"
#include "schedules/param_count.h"
#include "schedules/run_plan.h"

namespace journey {
namespace {

std::string shortest(double v) {
  char buf[32];
  auto result = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, result.ptr);
}

std::string percent(double fraction) {
  return shortest(std::round(fraction * 1e6) / 1e4);
}

// The lr of a model with `params` prunable parameters from a per-size list: log-log linear
// between the two listed sizes around it, the nearest listed size's outside them.
double listed_lr_at(const SweepAxes& axes, const RunConfig& base, double params) {
  std::vector<std::pair<double, double>> points;  // (prunable parameters, lr), by size.
  for (const ModelSize& size : axes.sizes) {
    ModelConfig model = base.model;
    model.d_model = size.d_model;
    model.n_layers = size.n_layers;
    model.n_heads = size.n_heads;
    points.emplace_back(static_cast<double>(count_params(model, base.data.vocab_size).prunable),
                        axes.lr_by_size.at(size.text));
  }
  std::sort(points.begin(), points.end());
  if (params <= points.front().first) return points.front().second;
  if (params >= points.back().first) return points.back().second;
  auto above = std::upper_bound(points.begin(), points.end(), std::make_pair(params, 0.0));
  auto below = std::prev(above);
  const double t = std::log(params / below->first) / std::log(above->first / below->first);
  return std::exp(std::log(below->second) + t * std::log(above->second / below->second));
}

}  // namespace

std::string size_name(const ModelConfig& m) {
  std::string name = std::to_string(m.d_model) + "x" + std::to_string(m.n_layers) + "x" +
                     std::to_string(m.n_heads);
  if (m.ffn_dim > 0 && m.ffn_dim != 4 * m.d_model) name += "f" + std::to_string(m.ffn_dim);
  return name;
}

ModelConfig matched_dense_model(const ModelConfig& sparse, int64_t vocab, double target) {
  const int64_t step = 2 * sparse.n_heads;  // Widths with an even head size.
  ModelConfig dense = sparse;
  auto prunable = [&](int64_t d, int64_t f) {
    dense.d_model = d;
    dense.ffn_dim = f;
    return static_cast<double>(count_params(dense, vocab).prunable);
  };
  // The width whose standard (f = 4d) model comes closest...
  int64_t best_d = step;
  for (int64_t d = step; d <= sparse.d_model; d += step) {
    if (std::abs(prunable(d, 4 * d) - target) < std::abs(prunable(best_d, 4 * best_d) - target)) {
      best_d = d;
    }
  }
  // ...then the SwiGLU width that closes the gap: the count is linear in f.
  const double at_one = prunable(best_d, 1), per_unit = prunable(best_d, 2) - at_one;
  dense.d_model = best_d;
  dense.ffn_dim = std::max<int64_t>(1, std::llround(1.0 + (target - at_one) / per_unit));
  return dense;
}

std::vector<Cell> expand_grid(const RunConfig& base) {
  const SweepConfig& s = base.sweep;
  const SweepAxes axes = parse_sweep_axes(s);
  // An empty list means the single value of the sections above.
  auto or_base = [](auto values, auto base_value) {
    if (values.empty()) values.push_back(base_value);
    return values;
  };
  std::vector<std::optional<ModelSize>> sizes(axes.sizes.begin(), axes.sizes.end());
  if (sizes.empty()) sizes.push_back(std::nullopt);  // The base model.
  // Each size with each rate of the lr axis (sweep.lrs); without one, the lr set below.
  std::vector<std::pair<std::optional<ModelSize>, std::optional<double>>> size_rates;
  for (const std::optional<ModelSize>& size : sizes) {
    const std::vector<double>& rates = axes.lrs_of(size ? size->text : "");
    if (rates.empty()) size_rates.emplace_back(size, std::nullopt);
    for (double lr : rates) size_rates.emplace_back(size, lr);
  }
  const bool sweep_durations = !axes.tokens_per_param.empty();

  std::vector<Cell> cells;
  std::set<std::string> seen;
  for (const auto& [size, lr] : size_rates) {
    for (double tpp : or_base(axes.tokens_per_param, base.train.tokens_per_param)) {
      for (double sparsity : or_base(axes.sparsities, base.prune.sparsity)) {
        for (ScheduleKind schedule : or_base(axes.schedules, base.prune.schedule)) {
          for (const PhaseSplit& phase :
               or_base(axes.phases, PhaseSplit{base.prune.dense_frac, base.prune.prune_end_frac})) {
            for (int64_t seed : or_base(axes.seeds, base.train.seed)) {
              Cell cell;
              cell.config = base;
              RunConfig& c = cell.config;
              if (size) {
                c.model.d_model = size->d_model;
                c.model.n_layers = size->n_layers;
                c.model.n_heads = size->n_heads;
                if (axes.lr_by_size.count(size->text)) c.train.lr = axes.lr_by_size.at(size->text);
                if (axes.batch_tokens_by_size.count(size->text)) {
                  c.train.batch_tokens = axes.batch_tokens_by_size.at(size->text);
                }
              }
              if (axes.lr_rule) {
                c.train.lr = axes.lr_rule->at(
                    static_cast<double>(count_params(c.model, c.data.vocab_size).prunable));
              }
              if (lr) c.train.lr = *lr;
              if (sweep_durations) {
                c.train.tokens = 0;
                c.train.tokens_per_param = tpp;
              }
              c.prune.sparsity = sparsity;
              c.prune.schedule = schedule;
              c.prune.dense_frac = phase.dense_frac;
              c.prune.prune_end_frac = phase.prune_end_frac;
              c.train.seed = seed;

              const std::string duration = c.train.tokens > 0
                                               ? "D" + std::to_string(c.train.tokens)
                                               : "tpp" + shortest(c.train.tokens_per_param);
              std::string id = size_name(c.model) + "-";
              if (c.prune.sparsity == 0.0) {
                id += "dense";
              } else {
                id += "sp" + shortest(c.prune.sparsity) + "-" + schedule_name(c.prune.schedule) +
                      "-p" + percent(c.prune.dense_frac) + "-" + percent(c.prune.prune_end_frac);
              }
              id += "-" + duration + "-seed" + std::to_string(c.train.seed);
              if (lr) id += "-lr" + shortest(*lr);    // Only with sweep.lrs: old ids stay.
              if (!seen.insert(id).second) continue;  // Dense cells collapse schedule axes.
              cell.id = id;
              RunPlan plan;
              try {
                plan = make_plan(c);
              } catch (const UsageError& e) {
                // Name the cell, and the [sweep] keys that set its duration and batch.
                std::string keys = sweep_durations ? "sweep.tokens_per_param" : "";
                if (size && axes.batch_tokens_by_size.count(size->text)) {
                  keys += (keys.empty() ? "" : " and ") + std::string("sweep.batch_tokens");
                }
                const bool about_tokens =
                    std::string(e.what()).find("train.tokens") != std::string::npos;
                throw UsageError(
                    "cell " + id + ": " + e.what() +
                    (keys.empty() || !about_tokens ? "" : " (its values come from " + keys + ")"));
              }
              cell.estimated_flops = plan.executed_flops;
              cell.warnings = plan.warnings;
              cells.push_back(std::move(cell));
            }
          }
        }
      }
    }
  }
  if (s.matched_dense) {
    const size_t grid_cells = cells.size();
    for (size_t i = 0; i < grid_cells; ++i) {
      if (cells[i].config.prune.sparsity == 0.0) continue;
      const RunPlan sparse_plan = make_plan(cells[i].config);
      Cell match;
      match.id = "match-" + cells[i].id;
      match.config = cells[i].config;
      match.config.model =
          matched_dense_model(cells[i].config.model, base.data.vocab_size, sparse_plan.mean_active);
      match.config.prune.sparsity = 0.0;
      match.config.train.tokens = sparse_plan.total_tokens;  // The same tokens.
      // The lr of its own size: the rule's, or the per-size list's interpolated; with an lr
      // axis (sweep.lrs), the sparse cell's rate, so each rate has its twins; the sparse
      // run's batch.
      const double twin_params =
          static_cast<double>(count_params(match.config.model, base.data.vocab_size).prunable);
      if (axes.lr_rule) {
        match.config.train.lr = axes.lr_rule->at(twin_params);
      } else if (!axes.lr_by_size.empty()) {
        match.config.train.lr = listed_lr_at(axes, base, twin_params);
      }
      const RunPlan match_plan = make_plan(match.config);
      match.estimated_flops = match_plan.executed_flops;
      match.warnings = match_plan.warnings;
      cells.push_back(std::move(match));
    }
  }
  return cells;
}

}  // namespace journey
