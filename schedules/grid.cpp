#include "schedules/grid.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

#include "common/error.h"
#include "schedules/run_plan.h"

namespace journey {
namespace {

std::string shortest(double v) {
  char buf[32];
  auto result = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, result.ptr);
}

double to_double(const std::string& key, const std::string& text) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    throw UsageError("config key " + key + " = " + text + " is invalid: not a number");
  }
  return v;
}

// A list axis, or the single base value when the list is empty.
std::vector<std::string> axis(const std::string& list, const std::string& base) {
  std::vector<std::string> items = split_list(list);
  if (items.empty()) items.push_back(base);
  return items;
}

std::string percent(double fraction) {
  return shortest(std::round(fraction * 1e6) / 1e4);
}

}  // namespace

void apply_size(const std::string& size, const std::string& key, ModelConfig* model) {
  int64_t d = 0, l = 0, h = 0;
  char x1 = 0, x2 = 0;
  std::istringstream in(size);
  in >> d >> x1 >> l >> x2 >> h;
  if (!in || in.peek() != EOF || x1 != 'x' || x2 != 'x' || d <= 0 || l <= 0 || h <= 0) {
    throw UsageError("config key " + key + " = " + size +
                     " is invalid: each size must be DxLxH (d_model x layers x heads)");
  }
  model->d_model = d;
  model->n_layers = l;
  model->n_heads = h;
}

std::string size_name(const ModelConfig& m) {
  std::string name = std::to_string(m.d_model) + "x" + std::to_string(m.n_layers) + "x" +
                     std::to_string(m.n_heads);
  if (m.ffn_dim > 0 && m.ffn_dim != 4 * m.d_model) name += "f" + std::to_string(m.ffn_dim);
  return name;
}

ModelConfig matched_dense_model(const ModelConfig& sparse, int64_t vocab, double target) {
  // Prunable parameters of width d and SwiGLU width f: L (4 d^2 + 3 d f) + V d.
  const int64_t L = sparse.n_layers, step = 2 * sparse.n_heads;
  auto prunable = [&](int64_t d, int64_t f) {
    return static_cast<double>(L * (4 * d * d + 3 * d * f) + vocab * d);
  };
  // The width whose standard (f = 4d) model comes closest...
  int64_t best_d = step;
  for (int64_t d = step; d <= sparse.d_model; d += step) {
    if (std::abs(prunable(d, 4 * d) - target) < std::abs(prunable(best_d, 4 * best_d) - target)) {
      best_d = d;
    }
  }
  // ...then the SwiGLU width that closes the gap to within 3 L d parameters.
  ModelConfig dense = sparse;
  dense.d_model = best_d;
  const double f = (target - vocab * best_d - 4.0 * L * best_d * best_d) / (3.0 * L * best_d);
  dense.ffn_dim = std::max<int64_t>(1, std::llround(f));
  return dense;
}

std::vector<Cell> expand_grid(const RunConfig& base) {
  const SweepConfig& s = base.sweep;
  const std::string base_phase =
      shortest(base.prune.dense_frac) + ":" + shortest(base.prune.prune_end_frac);
  const bool sweep_durations = !split_list(s.tokens_per_param).empty();

  std::vector<Cell> cells;
  std::set<std::string> seen;
  std::vector<std::string> sizes = split_list(s.sizes);
  if (sizes.empty()) sizes.push_back("");  // The base model.
  for (const std::string& size : sizes) {
    for (const std::string& tpp : axis(s.tokens_per_param, shortest(base.train.tokens_per_param))) {
      for (const std::string& sparsity_text : axis(s.sparsities, shortest(base.prune.sparsity))) {
        for (const std::string& schedule : axis(s.schedules, base.prune.schedule)) {
          for (const std::string& phase : axis(s.phases, base_phase)) {
            for (const std::string& seed : axis(s.seeds, std::to_string(base.train.seed))) {
              Cell cell;
              cell.config = base;
              RunConfig& c = cell.config;
              if (!size.empty()) apply_size(size, "sweep.sizes", &c.model);
              if (sweep_durations) {
                c.train.tokens = 0;
                c.train.tokens_per_param = to_double("sweep.tokens_per_param", tpp);
              }
              c.prune.sparsity = to_double("sweep.sparsities", sparsity_text);
              c.prune.schedule = schedule;
              auto colon = phase.find(':');
              if (colon == std::string::npos) {
                throw UsageError("config key sweep.phases = " + phase +
                                 " is invalid: each entry must be c_s:c_e");
              }
              c.prune.dense_frac = to_double("sweep.phases", phase.substr(0, colon));
              c.prune.prune_end_frac = to_double("sweep.phases", phase.substr(colon + 1));
              c.train.seed = static_cast<int64_t>(to_double("sweep.seeds", seed));

              const std::string duration = c.train.tokens > 0
                                               ? "D" + std::to_string(c.train.tokens)
                                               : "tpp" + shortest(c.train.tokens_per_param);
              std::string id = size_name(c.model) + "-";
              if (c.prune.sparsity == 0.0) {
                id += "dense";
              } else {
                id += "sp" + shortest(c.prune.sparsity) + "-" + c.prune.schedule + "-p" +
                      percent(c.prune.dense_frac) + "-" + percent(c.prune.prune_end_frac);
              }
              id += "-" + duration + "-seed" + std::to_string(c.train.seed);
              if (!seen.insert(id).second) continue;  // Dense cells collapse schedule axes.
              cell.id = id;
              cell.estimated_flops = make_plan(c).executed_flops;
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
      match.estimated_flops = make_plan(match.config).executed_flops;
      cells.push_back(std::move(match));
    }
  }
  return cells;
}

}  // namespace journey
