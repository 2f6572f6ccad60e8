// Sparse against dense at equal training compute, from the runs themselves.
//
// For each done sparse cell with compute C (results.csv `compute`, C = sum of 6 N_t tokens),
// the dense reference is a dense run of the same duration (tokens per parameter) that
// would spend the same C: the done dense cells of that duration (seeds pooled by their
// mean) form a curve of final eval loss and dense size N against compute, and the reference
// loss and size are interpolated linearly in log C between the two dense cells around C.
// Outside the dense cells' compute range there is no reference: extrapolating is the law's
// job, and the figure shows the law's compute-optimal dense curve beside the runs.
//
// Two compute measures: the comparison is at equal C = 6 N-bar D (the law's axis: weights
// alive), while the runs execute dense matmuls with masked weights, 6 P D; each row carries
// both (executed_compute).
//
// Savings: N_final / N_dense(C), the sparse run's final size against the dense run of equal
// compute, and N_final / N_initial, against its own starting size. No errors.
#pragma once

#include <limits>
#include <vector>

#include "report/sweep_data.h"

namespace journey {

struct EqualComputeRow {
  const SweepCell* sparse = nullptr;
  bool has_reference = false;
  double dense_loss = std::numeric_limits<double>::quiet_NaN();
  double dense_params = std::numeric_limits<double>::quiet_NaN();      // N of the dense reference
  double loss_difference = std::numeric_limits<double>::quiet_NaN();   // sparse - dense
  double final_size_ratio = std::numeric_limits<double>::quiet_NaN();  // N_final / N_dense
  double kept_fraction = 0;                                            // N_final / N_initial
  // What the run executed: 6 P D, P = N_initial (the dense prunable count; sparse runs
  // multiply dense matrices with masked weights), D its tokens. C = 6 N-bar D is less.
  double executed_compute = 0;
};

// One row per done sparse cell, in ledger order.
std::vector<EqualComputeRow> compare_at_equal_compute(const SweepData& data);

}  // namespace journey
