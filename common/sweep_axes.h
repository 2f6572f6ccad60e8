// The [sweep] lists parsed into values, once: validate() checks a config with it and the grid
// (schedules/grid.h) expands the same values into cells, so the two cannot disagree.
//
// Each list is space or comma separated (split_list). An empty list is an empty vector: the
// grid then uses the single value of the sections above.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"

namespace journey {

// A model size as the sweep names it: DxLxH (d_model x layers x heads).
struct ModelSize {
  int64_t d_model = 0, n_layers = 0, n_heads = 0;
  std::string text;  // As written in the list.
};

// A compute (or step) split: pruning from c_s to c_e.
struct PhaseSplit {
  double dense_frac = 0, prune_end_frac = 0;
};

// lr = coefficient * N^exponent, N the dense model's prunable parameters.
struct LrRule {
  double coefficient = 0, exponent = 0;
  double at(double n) const;
};

struct SweepAxes {
  std::vector<ModelSize> sizes;
  std::vector<double> sparsities;
  std::vector<PhaseSplit> phases;
  std::vector<double> tokens_per_param;
  std::vector<ScheduleKind> schedules;
  std::vector<int64_t> seeds;
  // Per-size settings, by size text ("48x2x2"); empty maps mean the [train] value.
  std::map<std::string, double> lr_by_size;
  std::optional<LrRule> lr_rule;
  std::map<std::string, int64_t> batch_tokens_by_size;
  // sweep.lrs, the lr axis: one list for every size, or a list per size (by size text);
  // both empty when the key is not set. Each rate is its own cells (schedules/grid.h).
  std::vector<double> lrs;
  std::map<std::string, std::vector<double>> lrs_by_size;

  // The rates of the lr axis for a size ("" for the base model); empty: no lr axis.
  const std::vector<double>& lrs_of(const std::string& size) const;
};

// Parses every list of `sweep`; throws UsageError naming the key, the bad entry and the rule.
SweepAxes parse_sweep_axes(const SweepConfig& sweep);

// Parses "DxLxH"; throws UsageError naming `key` when it is malformed or out of range.
ModelSize parse_model_size(const std::string& key, const std::string& text);

// The sparsity rule shared by prune.sparsity and sweep.sparsities: S in [0, 1).
void check_sparsity(const std::string& key, double sparsity, const std::string& text);

}  // namespace journey
