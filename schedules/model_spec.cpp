#include "schedules/model_spec.h"

#include <fnmatch.h>

#include <cmath>

namespace journey {

int64_t ParamSpec::numel() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

int64_t ModelSpec::prunable_count() const {
  int64_t n = 0;
  for (const ParamSpec& p : params) n += p.prunable ? p.numel() : 0;
  return n;
}

std::vector<int> ModelSpec::unit_params(int unit) const {
  std::vector<int> indices;
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].unit == unit) indices.push_back(static_cast<int>(i));
  }
  return indices;
}

ModelSpec make_model_spec(const ModelConfig& m, int64_t vocab) {
  const int64_t d = m.d_model, f = m.ffn();
  const double linear_d = 1.0 / std::sqrt(static_cast<double>(d));  // fan_in = d
  const double linear_f = 1.0 / std::sqrt(static_cast<double>(f));  // fan_in = f
  const double query = linear_d / std::sqrt(static_cast<double>(m.head_dim()));
  ModelSpec spec;
  spec.num_units = static_cast<int>(m.n_layers) + 2;
  spec.params.push_back({"embed", {vocab, d}, 0, false, linear_d});
  for (int64_t i = 0; i < m.n_layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    const int unit = static_cast<int>(i) + 1;
    spec.params.push_back({p + "attn_norm", {d}, unit, false, 0.0});
    spec.params.push_back({p + "wq", {d, d}, unit, true, query});
    spec.params.push_back({p + "wk", {d, d}, unit, true, linear_d});
    spec.params.push_back({p + "wv", {d, d}, unit, true, linear_d});
    spec.params.push_back({p + "wo", {d, d}, unit, true, linear_d});
    spec.params.push_back({p + "mlp_norm", {d}, unit, false, 0.0});
    spec.params.push_back({p + "w_gate", {f, d}, unit, true, linear_d});
    spec.params.push_back({p + "w_up", {f, d}, unit, true, linear_d});
    spec.params.push_back({p + "w_down", {d, f}, unit, true, linear_f});
  }
  const int last = spec.num_units - 1;
  spec.params.push_back({"final_norm", {d}, last, false, 0.0});
  spec.params.push_back({"head", {vocab, d}, last, true, linear_d});
  return spec;
}

bool matches_any_pattern(const std::string& name, const std::vector<std::string>& patterns) {
  for (const std::string& pattern : patterns) {
    if (fnmatch(pattern.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
}

std::vector<bool> excluded_params(const ModelSpec& spec, const std::string& exclude) {
  const std::vector<std::string> patterns = split_list(exclude);
  std::vector<bool> excluded(spec.params.size(), false);
  for (const std::string& pattern : patterns) {
    bool matched = false;
    for (size_t i = 0; i < spec.params.size(); ++i) {
      if (!spec.params[i].prunable || fnmatch(pattern.c_str(), spec.params[i].name.c_str(), 0)) {
        continue;
      }
      excluded[i] = matched = true;
    }
    if (!matched) {
      reject_config_value("prune.exclude", exclude,
                          "the pattern '" + pattern +
                              "' matches no prunable matrix (their names are layers.<i>.wq, wk, "
                              "wv, wo, w_gate, w_up, w_down and head)");
    }
  }
  return excluded;
}

}  // namespace journey
