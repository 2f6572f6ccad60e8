// Gradual magnitude pruning over the sharded model: masks, the exact distributed threshold,
// and the active-parameter counts.
//
// An event with keep fraction q keeps floor(q n) of the n prunable weights (global scope: all
// linear weights and the LM head under one threshold; layer scope: each matrix on its own).
// The threshold tau is the smallest kept magnitude, i.e. the (m+1)-th smallest |w| with
// m = n - floor(q n); weights with |w| < tau die, ties at tau live. Dead weights are already
// zero, so they count among the smallest and masks only shrink: new mask = old mask AND
// |w| >= tau. Killed weights and their AdamW moments are set to zero.
//
// tau is found without gathering weights: a radix select over the bit patterns of |w|
// (non-negative floats order like their bits as unsigned integers), 8 bits per pass, with
// the 256-bin histograms summed over the group by one all-reduce per pass. It is exact and
// deterministic, so masks equal the single-rank masks bit for bit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "worker/sharded_model.h"

namespace journey {

class Pruner {
 public:
  // per_layer: one threshold per prunable matrix instead of one for all. `exclude`
  // (prune.exclude, global scope only) names matrices that are never pruned: they count as
  // kept, so an event keeping floor(q P) weights takes every removal from the other matrices.
  Pruner(ShardedModel& model, bool per_layer, const std::string& exclude = "");

  // Applies one event. Returns the number of prunable weights alive afterwards (group-wide).
  int64_t prune(double keep);
  // Prunable weights alive now (group-wide).
  int64_t active_count();
  // Alive count of each prunable parameter, in ModelSpec order (group-wide).
  std::vector<int64_t> active_per_param();

 private:
  // One prunable parameter: its slot in a unit and its threshold group (0 for global
  // scope, its own index for layer scope).
  struct Target {
    ShardedUnit* unit;
    int slot;
    int group;      // -1: excluded, never pruned.
    int64_t numel;  // Logical elements of the whole parameter.
  };
  std::vector<uint64_t> select_thresholds(const std::vector<int64_t>& to_prune);

  ShardedModel& model_;
  bool per_layer_;
  std::vector<Target> targets_;
  int num_groups_ = 1;
};

}  // namespace journey
