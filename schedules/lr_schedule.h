// The learning rate at each step: linear warm-up over warmup_frac of the steps, then cosine
// decay from the peak to final_lr_frac * peak at the last step (the paper's recipe: 1 %
// warm-up, cosine to 10 %).
//
//   t < W:   lr = peak * (t + 1) / W
//   t >= W:  lr = floor + (peak - floor) * (1 + cos(pi * (t - W) / (T - W - 1))) / 2
// with W = round(warmup_frac * T) and floor = final_lr_frac * peak, so step T - 1 trains at
// exactly the floor.
#pragma once

#include <cstdint>

#include "common/config.h"

namespace journey {

class LrSchedule {
 public:
  LrSchedule(const TrainConfig& train, int64_t total_steps);
  double at(int64_t step) const;
  int64_t warmup_steps() const { return warmup_; }

 private:
  double peak_, floor_;
  int64_t warmup_, total_;
};

}  // namespace journey
