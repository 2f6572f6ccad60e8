// How a sweep's ranks are laid out: rank 0 coordinates and ranks 1 .. G*k form G worker
// groups of k consecutive ranks (group g is ranks 1 + g*k .. (g+1)*k, its leader the first).
// `journey sweep` checks its launch against it, the coordinator addresses leaders with it and
// `journey submit` checks a job's nodes x ranks per node before sbatch.
#pragma once

#include <optional>

namespace journey {

class SweepLayout {
 public:
  // The layout of `ranks` ranks in groups of `group_size`, or nothing when `ranks` is not
  // 1 + G*k with G >= 1 (or either number is below 1).
  static std::optional<SweepLayout> of(int ranks, int group_size);

  int ranks() const { return 1 + num_groups_ * group_size_; }
  int group_size() const { return group_size_; }
  int num_groups() const { return num_groups_; }
  int leader_of(int group) const { return 1 + group * group_size_; }
  int group_of(int rank) const { return rank == 0 ? -1 : (rank - 1) / group_size_; }

 private:
  SweepLayout(int group_size, int num_groups) : group_size_(group_size), num_groups_(num_groups) {}
  int group_size_ = 1;
  int num_groups_ = 1;
};

}  // namespace journey
