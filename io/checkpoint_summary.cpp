#include "io/checkpoint_summary.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <utility>

#include "common/error.h"
#include "common/ini_entries.h"
#include "io/checkpoint_consistency.h"

namespace journey {
namespace {

constexpr int64_t kBlockBytes = 4 << 20;

const char* const kHighlightedKeys[] = {
    "model.d_model",      "model.n_layers",   "model.n_heads",        "model.ffn_dim",
    "model.seq_len",      "data.vocab_size",  "train.tokens",         "train.tokens_per_param",
    "train.batch_tokens", "train.lr",         "train.seed",           "prune.schedule",
    "prune.sparsity",     "prune.dense_frac", "prune.prune_end_frac", "prune.scope",
    "sweep.group_size",
};

int64_t count_kept(const CheckpointReader& reader, const std::string& mask_path,
                   const TensorInfo& info) {
  const int64_t row_elements = info.row_elements();
  if (info.rows() == 0 || row_elements == 0) return 0;
  const int64_t block_rows = std::clamp<int64_t>(kBlockBytes / row_elements, 1, info.rows());
  std::vector<uint8_t> mask(static_cast<size_t>(block_rows * row_elements));
  int64_t kept = 0;
  for (int64_t begin = 0; begin < info.rows(); begin += block_rows) {
    const int64_t count = std::min(block_rows, info.rows() - begin);
    reader.read_rows(mask_path, begin, count, mask.data());
    kept += std::count_if(mask.begin(), mask.begin() + count * row_elements,
                          [](uint8_t m) { return m != 0; });
  }
  return kept;
}

std::string layer_of(const std::string& name) {
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

}  // namespace

CheckpointSummary summarize(const CheckpointReader& reader) {
  CheckpointSummary summary;
  summary.path = reader.path();
  summary.problems = reader.verify();
  summary.datasets = static_cast<int64_t>(reader.datasets().size());
  for (const std::string& name : reader.attr_names()) {
    try {
      summary.attributes.emplace_back(name, reader.attr(name));
    } catch (const DataError& e) {
      summary.problems.push_back({"/", e.what()});
    }
  }
  std::vector<CheckpointProblem> consistency = check_consistency(reader);
  summary.problems.insert(summary.problems.end(), consistency.begin(), consistency.end());

  for (const std::string& name : reader.list(checkpoint::kParams)) {
    try {
      summary.parameter_count +=
          reader.info(std::string(checkpoint::kParams) + "/" + name).elements();
      ++summary.parameter_tensors;
    } catch (const DataError&) {
      // Unreadable: already among the problems.
    }
  }
  std::map<std::string, MaskCount> layers;
  for (const std::string& name : reader.list(checkpoint::kMasks)) {
    const std::string mask_path = std::string(checkpoint::kMasks) + "/" + name;
    MaskCount count{name};
    try {
      TensorInfo info = reader.info(mask_path);
      if (info.dtype != DType::kUInt8) continue;  // Reported by check_consistency().
      count.total = info.elements();
      count.kept = count_kept(reader, mask_path, info);
    } catch (const DataError&) {
      continue;  // Reported by verify() or check_consistency().
    }
    summary.parameters.push_back(count);
    MaskCount& layer = layers[layer_of(name)];
    layer.name = layer_of(name);
    layer.total += count.total;
    layer.kept += count.kept;
    summary.prunable.total += count.total;
    summary.prunable.kept += count.kept;
  }
  for (auto& [name, layer] : layers) summary.layers.push_back(layer);

  if (reader.contains(checkpoint::kActiveSeries)) {
    try {
      std::vector<double> active = reader.read_series_double(checkpoint::kActiveSeries);
      summary.history_steps = static_cast<int64_t>(active.size());
      if (!active.empty()) {
        summary.mean_active =
            std::accumulate(active.begin(), active.end(), 0.0) / static_cast<double>(active.size());
      }
    } catch (const DataError& e) {
      summary.problems.push_back({checkpoint::kActiveSeries, e.what()});
    }
  }
  return summary;
}

std::vector<std::pair<std::string, std::string>> config_highlights(const std::string& ini) {
  std::map<std::string, std::string> values;  // A key given twice: the last value counts.
  for (auto& [key, value] : ini_entries(ini)) values[key] = std::move(value);
  std::vector<std::pair<std::string, std::string>> highlights;
  for (const char* key : kHighlightedKeys) {
    auto it = values.find(key);
    if (it != values.end()) highlights.emplace_back(key, it->second);
  }
  return highlights;
}

}  // namespace journey
