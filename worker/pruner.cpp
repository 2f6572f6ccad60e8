#include "worker/pruner.h"

#include <c10/core/GradMode.h>

#include <cstring>
#include <stdexcept>

#include "schedules/density_schedule.h"
#include "schedules/model_spec.h"
#include "worker/kernels.h"

namespace journey {

namespace {

uint32_t magnitude_bits(float w) {
  uint32_t bits;
  std::memcpy(&bits, &w, sizeof bits);
  return bits & 0x7fffffffu;  // |w|: clear the sign bit.
}

// magnitude_bits() of every element, as int64, for devices the CPU loops cannot reach.
at::Tensor magnitude_bits(const at::Tensor& w) {
  return w.contiguous().view(at::kInt).to(at::kLong).bitwise_and(0x7fffffff);
}

}  // namespace

Pruner::Pruner(ShardedModel& model, bool per_layer, const std::string& exclude)
    : model_(model), per_layer_(per_layer) {
  if (per_layer && !exclude.empty()) {
    throw std::invalid_argument("prune.exclude needs prune.scope = global");
  }
  const std::vector<bool> excluded = excluded_params(model_.spec(), exclude);
  int prunable_index = 0;
  for (auto& unit : model_.units()) {
    for (int s = 0; s < static_cast<int>(unit->slots().size()); ++s) {
      const ShardedUnit::Slot& slot = unit->slots()[s];
      if (!slot.prunable) continue;
      const int group = excluded[slot.param] ? -1 : per_layer_ ? prunable_index : 0;
      targets_.push_back({unit.get(), s, group, slot.rows * slot.row_numel});
      ++prunable_index;
    }
  }
  num_groups_ = per_layer_ ? prunable_index : 1;
}

std::vector<uint64_t> Pruner::select_thresholds(const std::vector<int64_t>& to_prune) {
  // Radix select of the element of rank to_prune[g] (0-based, ascending) in each group.
  // Thresholds are uint64 so that "prune everything" can be 2^32, above any bit pattern.
  std::vector<uint64_t> prefix(num_groups_, 0);
  std::vector<int64_t> rank(to_prune);
  std::vector<int64_t> hist(static_cast<size_t>(num_groups_) * 256);
  for (int shift = 24; shift >= 0; shift -= 8) {
    std::fill(hist.begin(), hist.end(), 0);
    for (const Target& t : targets_) {
      if (t.group < 0) continue;
      at::Tensor w = t.unit->local_rows_of(t.unit->weights(), t.slot);
      int64_t* h = hist.data() + static_cast<size_t>(t.group) * 256;
      const uint64_t want = prefix[t.group];
      if (!use_cpu_kernel(w)) {
        const at::Tensor bits = magnitude_bits(w);
        const at::Tensor match = bits.__rshift__(shift + 8).eq(static_cast<int64_t>(want));
        const at::Tensor bins = bits.__rshift__(shift).bitwise_and(0xff).masked_select(match);
        const at::Tensor counts = at::bincount(bins, {}, 256).cpu();
        for (int b = 0; b < 256; ++b) h[b] += counts[b].item<int64_t>();
        continue;
      }
      const float* data = w.data_ptr<float>();
      const int64_t n = w.numel();
      for (int64_t i = 0; i < n; ++i) {
        const uint64_t bits = magnitude_bits(data[i]);
        if ((bits >> (shift + 8)) == want) ++h[(bits >> shift) & 0xff];
      }
    }
    model_.group().all_reduce_sum(hist.data(), hist.size(), ElementType::kInt64);
    for (int g = 0; g < num_groups_; ++g) {
      const int64_t* h = hist.data() + static_cast<size_t>(g) * 256;
      int bin = 0;
      while (bin < 255 && rank[g] >= h[bin]) rank[g] -= h[bin++];
      prefix[g] = (prefix[g] << 8) | static_cast<uint64_t>(bin);
    }
  }
  return prefix;
}

int64_t Pruner::prune(double keep) {
  c10::AutoGradMode no_grad(false);
  std::vector<int64_t> group_numel(num_groups_, 0);
  int64_t excluded_numel = 0;
  for (const Target& t : targets_) (t.group < 0 ? excluded_numel : group_numel[t.group]) += t.numel;
  std::vector<int64_t> to_prune(num_groups_);
  for (int g = 0; g < num_groups_; ++g) {
    // Excluded matrices (global scope) keep their weights; the rest gives up every removal
    // that floor(keep * all prunable weights) asks for.
    const int64_t all = group_numel[g] + excluded_numel;
    to_prune[g] = all - kept_count(keep, all);
  }
  std::vector<uint64_t> threshold = select_thresholds(to_prune);
  for (int g = 0; g < num_groups_; ++g) {
    if (to_prune[g] == 0) threshold[g] = 0;                        // Keep everything.
    if (to_prune[g] == group_numel[g]) threshold[g] = 1ULL << 32;  // Keep nothing.
  }
  for (const Target& t : targets_) {
    if (t.group < 0) continue;
    ShardedUnit& unit = *t.unit;
    at::Tensor w = unit.local_rows_of(unit.weights(), t.slot);
    at::Tensor mask = unit.local_rows_of(unit.mask(), t.slot);
    const uint64_t tau = threshold[t.group];
    if (use_cpu_kernel(w)) {
      const float* wd = w.data_ptr<float>();
      bool* md = mask.data_ptr<bool>();
      for (int64_t i = 0; i < w.numel(); ++i) md[i] = md[i] && magnitude_bits(wd[i]) >= tau;
    } else {
      mask.logical_and_(magnitude_bits(w).ge(static_cast<int64_t>(tau)).view(mask.sizes()));
    }
    at::Tensor dead = mask.logical_not();
    w.masked_fill_(dead, 0.0f);
    unit.local_rows_of(unit.exp_avg(), t.slot).masked_fill_(dead, 0.0f);
    unit.local_rows_of(unit.exp_avg_sq(), t.slot).masked_fill_(dead, 0.0f);
  }
  return active_count();
}

std::vector<int64_t> Pruner::active_per_param() {
  std::vector<int64_t> counts;
  for (const Target& t : targets_) {
    counts.push_back(t.unit->local_rows_of(t.unit->mask(), t.slot).sum().item<int64_t>());
  }
  model_.group().all_reduce_sum(counts.data(), counts.size(), ElementType::kInt64);
  return counts;
}

int64_t Pruner::active_count() {
  int64_t total = 0;
  for (int64_t n : active_per_param()) total += n;
  return total;
}

}  // namespace journey
