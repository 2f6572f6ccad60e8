#include "report/equal_compute.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace journey {
namespace {

struct DensePoint {
  double compute = 0, loss = 0, params = 0;
  int runs = 0;
};

// Mean of the done dense cells of one duration, per size, ordered by compute.
std::vector<DensePoint> dense_curve(const SweepData& data, double tokens_per_param) {
  std::map<std::string, DensePoint> by_size;
  for (const SweepCell& cell : data.cells) {
    const CellRecord& r = cell.record;
    if (!cell.done() || r.sparsity != 0 || std::fabs(r.tokens_per_param - tokens_per_param) > 1e-9)
      continue;
    DensePoint& p = by_size[r.size];
    p.compute += r.run.compute;
    p.loss += r.run.final_eval_loss;
    p.params += r.run.n_initial;
    ++p.runs;
  }
  std::vector<DensePoint> curve;
  for (auto& [size, p] : by_size) {
    curve.push_back({p.compute / p.runs, p.loss / p.runs, p.params / p.runs, p.runs});
  }
  std::sort(curve.begin(), curve.end(),
            [](const DensePoint& a, const DensePoint& b) { return a.compute < b.compute; });
  return curve;
}

}  // namespace

std::vector<EqualComputeRow> compare_at_equal_compute(const SweepData& data) {
  std::vector<EqualComputeRow> rows;
  for (const SweepCell& cell : data.cells) {
    const CellRecord& r = cell.record;
    if (!cell.done() || r.sparsity == 0) continue;
    EqualComputeRow row;
    row.sparse = &cell;
    row.kept_fraction =
        r.run.n_initial > 0 ? static_cast<double>(r.run.n_final) / r.run.n_initial : 0;
    row.executed_compute = 6.0 * r.run.n_initial * static_cast<double>(r.run.tokens);
    const std::vector<DensePoint> curve = dense_curve(data, r.tokens_per_param);
    for (size_t i = 0; i + 1 < curve.size(); ++i) {
      const DensePoint &lo = curve[i], &hi = curve[i + 1];
      if (r.run.compute < lo.compute || r.run.compute > hi.compute || hi.compute <= lo.compute)
        continue;
      const double t = std::log(r.run.compute / lo.compute) / std::log(hi.compute / lo.compute);
      row.has_reference = true;
      row.dense_loss = lo.loss + t * (hi.loss - lo.loss);
      row.dense_params = std::exp(std::log(lo.params) + t * std::log(hi.params / lo.params));
      row.loss_difference = r.run.final_eval_loss - row.dense_loss;
      row.final_size_ratio = r.run.n_final / row.dense_params;
      break;
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace journey
