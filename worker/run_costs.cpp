#include "worker/run_costs.h"

#include <sys/resource.h>

namespace journey {

RunCosts measure_run_costs(ShardedModel& model, Pruner& pruner, double steps_s,
                           double collectives_s, double pruning_s) {
  Collectives& group = model.group();
  RunCosts costs;
  costs.steps_s = steps_s;
  costs.collectives_s = collectives_s;
  costs.pruning_s = pruning_s;
  costs.peak_rss_mb_per_rank.resize(group.size());
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double mine = usage.ru_maxrss / 1024.0;
  group.all_gather(&mine, costs.peak_rss_mb_per_rank.data(), 1, ElementType::kFloat64);
  int64_t shard_bytes = 0;
  for (auto& unit : model.units()) {
    shard_bytes += unit->shard_numel() * (4 * sizeof(float) + 1);  // w, grad, m, v; mask
  }
  costs.sharded_state_mb_per_rank = shard_bytes / 1048576.0;
  const std::vector<int64_t> alive = pruner.active_per_param();
  size_t i = 0;
  for (const ParamSpec& p : model.spec().params) {
    if (!p.prunable) continue;
    costs.final_sparsity.push_back({p.name, 1.0 - static_cast<double>(alive[i++]) / p.numel()});
  }
  return costs;
}

}  // namespace journey
