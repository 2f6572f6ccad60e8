#include "schedules/grid.h"

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

std::string percent(double fraction) { return shortest(std::round(fraction * 1e6) / 1e4); }

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
  return std::to_string(m.d_model) + "x" + std::to_string(m.n_layers) + "x" +
         std::to_string(m.n_heads);
}

std::vector<Cell> expand_grid(const RunConfig& base) {
  const SweepConfig& s = base.sweep;
  const std::string base_phase =
      shortest(base.prune.dense_frac) + ":" + shortest(base.prune.prune_end_frac);
  const bool sweep_durations = !split_list(s.tokens_per_param).empty();

  std::vector<Cell> cells;
  std::set<std::string> seen;
  for (const std::string& size : axis(s.sizes, size_name(base.model))) {
    for (const std::string& tpp : axis(s.tokens_per_param, shortest(base.train.tokens_per_param))) {
      for (const std::string& sparsity_text : axis(s.sparsities, shortest(base.prune.sparsity))) {
        for (const std::string& schedule : axis(s.schedules, base.prune.schedule)) {
          for (const std::string& phase : axis(s.phases, base_phase)) {
            for (const std::string& seed : axis(s.seeds, std::to_string(base.train.seed))) {
              Cell cell;
              cell.config = base;
              RunConfig& c = cell.config;
              apply_size(size, "sweep.sizes", &c.model);
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

              const std::string duration =
                  c.train.tokens > 0 ? "D" + std::to_string(c.train.tokens)
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
  return cells;
}

}  // namespace journey
