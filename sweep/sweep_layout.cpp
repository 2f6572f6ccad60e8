#include "sweep/sweep_layout.h"

namespace journey {

std::optional<SweepLayout> SweepLayout::of(int ranks, int group_size) {
  if (ranks < 1 || group_size < 1) return std::nullopt;
  if (ranks < 1 + group_size || (ranks - 1) % group_size != 0) return std::nullopt;
  return SweepLayout(group_size, (ranks - 1) / group_size);
}

}  // namespace journey
