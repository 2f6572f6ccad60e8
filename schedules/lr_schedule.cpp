#include "schedules/lr_schedule.h"

#include <cmath>

namespace journey {

LrSchedule::LrSchedule(const TrainConfig& train, int64_t total_steps)
    : peak_(train.lr),
      floor_(train.lr * train.final_lr_frac),
      warmup_(std::llround(train.warmup_frac * total_steps)),
      total_(total_steps) {}

double LrSchedule::at(int64_t step) const {
  if (step < warmup_) return peak_ * static_cast<double>(step + 1) / warmup_;
  const int64_t span = total_ - warmup_ - 1;
  if (span <= 0) return floor_;
  const double progress = static_cast<double>(step - warmup_) / span;
  return floor_ + (peak_ - floor_) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace journey
