#include "common/sweep_axes.h"

#include <charconv>
#include <cmath>
#include <sstream>

#include "common/error.h"

namespace journey {
namespace {

double parse_double(const std::string& key, const std::string& text) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size())
    reject_config_value(key, text, "not a number");
  if (!std::isfinite(v)) reject_config_value(key, text, "must be a finite number");
  return v;
}

PhaseSplit parse_phase(const std::string& key, const std::string& pair) {
  const auto colon = pair.find(':');
  require_config_value(colon != std::string::npos, key, pair, "each entry must be c_s:c_e");
  PhaseSplit p;
  p.dense_frac = parse_double(key, pair.substr(0, colon));
  p.prune_end_frac = parse_double(key, pair.substr(colon + 1));
  require_config_value(p.dense_frac >= 0.0 && p.dense_frac <= 1.0, key, pair,
                       "dense fraction c_s must be in [0, 1]");
  require_config_value(p.prune_end_frac > p.dense_frac, key, pair,
                       "pruning must end after it starts (c_e > c_s)");
  require_config_value(p.prune_end_frac <= 1.0, key, pair,
                       "dense and pruning fractions must sum to at most 1 (c_e <= 1)");
  return p;
}

}  // namespace

void check_sparsity(const std::string& key, double sparsity, const std::string& text) {
  require_config_value(sparsity >= 0.0 && sparsity < 1.0, key, text, "sparsity must be in [0, 1)");
}

ModelSize parse_model_size(const std::string& key, const std::string& text) {
  ModelSize size;
  size.text = text;
  char x1 = 0, x2 = 0;
  std::istringstream in(text);
  in >> size.d_model >> x1 >> size.n_layers >> x2 >> size.n_heads;
  require_config_value(in && in.peek() == EOF && x1 == 'x' && x2 == 'x', key, text,
                       "each size must be DxLxH (d_model x layers x heads), e.g. 256x4x4");
  const int64_t d = size.d_model, l = size.n_layers, h = size.n_heads;
  require_config_value(d > 0 && l > 0 && h > 0 && d % h == 0 && (d / h) % 2 == 0, key, text,
                       "needs positive values, heads dividing d_model and an even head size");
  require_config_value(d <= kMaxWidth && l <= kMaxLayers, key, text,
                       "d_model must be at most " + std::to_string(kMaxWidth) +
                           " and layers at most " + std::to_string(kMaxLayers));
  return size;
}

SweepAxes parse_sweep_axes(const SweepConfig& s) {
  SweepAxes axes;
  for (const std::string& text : split_list(s.sizes)) {
    axes.sizes.push_back(parse_model_size("sweep.sizes", text));
  }
  for (const std::string& text : split_list(s.sparsities)) {
    const double sparsity = parse_double("sweep.sparsities", text);
    check_sparsity("sweep.sparsities", sparsity, text);
    axes.sparsities.push_back(sparsity);
  }
  for (const std::string& text : split_list(s.phases)) {
    axes.phases.push_back(parse_phase("sweep.phases", text));
  }
  for (const std::string& text : split_list(s.tokens_per_param)) {
    const double tpp = parse_double("sweep.tokens_per_param", text);
    require_config_value(tpp > 0.0, "sweep.tokens_per_param", text, "must be positive");
    axes.tokens_per_param.push_back(tpp);
  }
  for (const std::string& text : split_list(s.schedules)) {
    axes.schedules.push_back(parse_schedule_kind("sweep.schedules", text));
  }
  for (const std::string& text : split_list(s.seeds)) {
    const double seed = parse_double("sweep.seeds", text);
    require_config_value(seed >= 0 && seed == static_cast<int64_t>(seed), "sweep.seeds", text,
                         "must be a non-negative integer");
    axes.seeds.push_back(static_cast<int64_t>(seed));
  }
  return axes;
}

}  // namespace journey
