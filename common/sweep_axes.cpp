#include "common/sweep_axes.h"

#include <algorithm>
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

// "SIZE:VALUE" pairs for every size of the sweep, and no other size. `entries` are the list's
// entries (split_list(list) unless told otherwise); `example` shows the form in errors.
template <class T, class Parse>
std::map<std::string, T> per_size(const std::string& key, const std::string& list,
                                  const std::vector<ModelSize>& sizes, Parse parse,
                                  const std::vector<std::string>& entries,
                                  const std::string& example = "SIZE:VALUE, e.g. 48x2x2:3e-3") {
  std::map<std::string, T> values;
  for (const std::string& entry : entries) {
    const auto colon = entry.find(':');
    require_config_value(colon != std::string::npos, key, entry, "each entry must be " + example);
    const ModelSize size = parse_model_size(key, entry.substr(0, colon));
    bool in_sweep = false;
    for (const ModelSize& s : sizes) in_sweep = in_sweep || s.text == size.text;
    require_config_value(in_sweep, key, entry, "size " + size.text + " is not one of sweep.sizes");
    require_config_value(values.count(size.text) == 0, key, entry,
                         "size " + size.text + " is listed twice");
    values[size.text] = parse(entry.substr(colon + 1), entry);
  }
  if (!values.empty()) {
    for (const ModelSize& s : sizes) {
      require_config_value(values.count(s.text) > 0, key, list,
                           "every size of sweep.sizes needs a value, and " + s.text + " has none");
    }
  }
  return values;
}

template <class T, class Parse>
std::map<std::string, T> per_size(const std::string& key, const std::string& list,
                                  const std::vector<ModelSize>& sizes, Parse parse) {
  return per_size<T>(key, list, sizes, parse, split_list(list));
}

// A learning rate of sweep.lr or sweep.lrs: in (0, 10).
double parse_lr(const std::string& key, const std::string& text, const std::string& entry) {
  const double lr = parse_double(key, text);
  require_config_value(lr > 0 && lr < 10, key, entry, "lr must be in (0, 10)");
  return lr;
}

// The rates of one sweep.lrs list, each once.
std::vector<double> parse_rates(const std::vector<std::string>& texts, const std::string& entry) {
  std::vector<double> rates;
  for (const std::string& text : texts) {
    const double lr = parse_lr("sweep.lrs", text, entry);
    require_config_value(std::find(rates.begin(), rates.end(), lr) == rates.end(), "sweep.lrs",
                         entry, "the rate " + text + " is listed twice");
    rates.push_back(lr);
  }
  return rates;
}

// sweep.lrs: "LR LR ..." for every size, or "SIZE:LR,LR ... SIZE:LR,LR ..." per size (a rate
// without a size belongs to the entry before it, as the list is split on spaces and commas).
void parse_lr_axis(const SweepConfig& s, SweepAxes& axes) {
  const std::string key = "sweep.lrs";
  if (split_list(s.lrs).empty()) return;
  require_config_value(s.lr.empty(), key, s.lrs,
                       "sweep.lrs and sweep.lr = " + s.lr +
                           " cannot both be set: sweep.lrs makes each rate its own cells (per "
                           "size: SIZE:LR,LR), sweep.lr gives each size one rate");
  if (s.lrs.find(':') == std::string::npos) {
    axes.lrs = parse_rates(split_list(s.lrs), s.lrs);
    return;
  }
  require_config_value(!axes.sizes.empty(), key, s.lrs,
                       "per-size values need sweep.sizes (or one list for every size)");
  std::vector<std::string> entries;
  for (const std::string& token : split_list(s.lrs)) {
    if (token.find(':') != std::string::npos) {
      entries.push_back(token);
    } else {
      require_config_value(!entries.empty(), key, token,
                           "a rate before any SIZE: entry; write either rates for every size "
                           "or SIZE:LR,LR entries for each size, not both");
      entries.back() += "," + token;
    }
  }
  axes.lrs_by_size = per_size<std::vector<double>>(
      key, s.lrs, axes.sizes,
      [](const std::string& text, const std::string& entry) {
        require_config_value(!split_list(text).empty(), "sweep.lrs", entry,
                             "each size needs at least one rate, e.g. 48x2x2:6e-3,1.2e-2");
        return parse_rates(split_list(text), entry);
      },
      entries, "SIZE:LR,LR..., e.g. 48x2x2:6e-3,1.2e-2");
}

// "C*N^A".
std::optional<LrRule> parse_lr_rule(const std::string& key, const std::string& text) {
  const auto star = text.find("*N^");
  if (star == std::string::npos) return std::nullopt;
  LrRule rule{parse_double(key, text.substr(0, star)), parse_double(key, text.substr(star + 3))};
  require_config_value(rule.coefficient > 0, key, text, "the coefficient must be positive");
  require_config_value(std::fabs(rule.exponent) <= 2, key, text, "the exponent must be in [-2, 2]");
  return rule;
}

}  // namespace

const std::vector<double>& SweepAxes::lrs_of(const std::string& size) const {
  const auto it = lrs_by_size.find(size);
  return it == lrs_by_size.end() ? lrs : it->second;
}

double LrRule::at(double n) const {
  return coefficient * std::pow(n, exponent);
}

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
    // Range first: converting a double beyond int64_t is undefined behaviour.
    require_config_value(seed >= 0 && seed < 0x1p63 && seed == static_cast<int64_t>(seed),
                         "sweep.seeds", text, "must be a non-negative integer below 2^63");
    axes.seeds.push_back(static_cast<int64_t>(seed));
  }
  axes.lr_rule = parse_lr_rule("sweep.lr", s.lr);
  if (!axes.lr_rule && !s.lr.empty()) {
    require_config_value(!axes.sizes.empty(), "sweep.lr", s.lr,
                         "per-size values need sweep.sizes (or use a rule C*N^A)");
    axes.lr_by_size = per_size<double>("sweep.lr", s.lr, axes.sizes,
                                       [](const std::string& text, const std::string& entry) {
                                         return parse_lr("sweep.lr", text, entry);
                                       });
  }
  parse_lr_axis(s, axes);
  if (!s.batch_tokens.empty()) {
    require_config_value(!axes.sizes.empty(), "sweep.batch_tokens", s.batch_tokens,
                         "per-size values need sweep.sizes");
    axes.batch_tokens_by_size = per_size<int64_t>(
        "sweep.batch_tokens", s.batch_tokens, axes.sizes,
        [](const std::string& text, const std::string& entry) {
          const double v = parse_double("sweep.batch_tokens", text);
          require_config_value(v >= 1 && v <= 1e12 && v == static_cast<int64_t>(v),
                               "sweep.batch_tokens", entry, "must be a positive integer");
          return static_cast<int64_t>(v);
        });
  }
  return axes;
}

}  // namespace journey
