// One FSDP unit: the parameters that are used together (the embedding, one transformer
// block, or the final norm with the LM head), sharded over the ranks of a worker group.
//
// Sharding follows FSDP2: every parameter is split along dim 0 into k chunks of
// ceil(rows / k) rows, the last one padded with zero rows. Rank r keeps only chunk r of each
// parameter, of its gradient, of both AdamW moments and of its mask, all packed into flat
// 1-D tensors of shard_numel() elements, so per-rank memory for these is about 1/k.
//
// Full parameters exist only while the unit computes:
//   gather()   all-gathers the chunks (one collective per unit) into a full buffer;
//   release()  frees that buffer (its storage is resized to zero bytes, so tensors saved for
//              backward keep pointing at it and gather() can refill it in place);
//   training_params() returns the full tensors as outputs of an autograd node whose backward
//              receives all of the unit's full gradients at once, reduce-scatters them (sum)
//              into grads() and releases the buffer.
// With k = 1 the full buffer is the shard itself: nothing is gathered or freed.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "common/collectives.h"
#include "schedules/model_spec.h"

namespace journey {

class ShardedUnit {
 public:
  // Where one parameter lives in the flat shard.
  struct Slot {
    int param = 0;  // Index into ModelSpec::params.
    std::vector<int64_t> shape;
    int64_t rows = 0;        // Logical rows (dim 0).
    int64_t row_numel = 0;   // Elements per row.
    int64_t chunk_rows = 0;  // ceil(rows / k)
    int64_t offset = 0;      // Element offset of this rank's chunk in the flat shard.
    bool prunable = false;
    int64_t chunk_numel() const { return chunk_rows * row_numel; }
  };

  // Every tensor of the unit lives on `device` (the collectives must take that memory).
  ShardedUnit(const ModelSpec& spec, int unit, Collectives& group, at::Device device = at::kCPU);

  int index() const { return unit_; }
  const std::vector<Slot>& slots() const { return slots_; }
  int64_t shard_numel() const { return shard_numel_; }
  // This rank's logical rows of slot s: [row_begin(s), row_begin(s) + local_rows(s)).
  int64_t row_begin(int s) const;
  int64_t local_rows(int s) const;
  // The same for any rank of the group.
  int64_t row_begin(int s, int rank) const;
  int64_t local_rows(int s, int rank) const;
  int group_size() const { return k_; }

  // Local state, each a 1-D tensor of shard_numel() elements. The mask is bool: true where
  // a weight is alive. Padding rows are dead (mask false, weight zero).
  at::Tensor& weights() { return weights_; }
  at::Tensor& grads() { return grads_; }
  at::Tensor& exp_avg() { return exp_avg_; }
  at::Tensor& exp_avg_sq() { return exp_avg_sq_; }
  at::Tensor& mask() { return mask_; }
  // Slot s's real (unpadded) local rows of a flat tensor, shaped [local_rows, row_numel].
  at::Tensor local_rows_of(const at::Tensor& flat, int s) const;

  void gather();
  void release();
  bool gathered() const { return gathered_; }
  // Full-shape parameters sharing the full buffer (for evaluation under no-grad).
  std::vector<at::Tensor> full_params();
  // Full-shape parameters recorded by autograd; see the header comment.
  std::vector<at::Tensor> training_params();
  // Collective: every slot's full logical tensor assembled from a flat float shard tensor
  // (weights(), a moment, or the mask converted to float), on every rank of the group.
  std::vector<at::Tensor> gather_slots(const at::Tensor& flat);
  // Reduce-scatters full-shape gradients (in slot order) into grads() (sum over ranks),
  // replacing them, or adding to them while set_accumulate_grads(true) (micro-batches).
  void reduce_scatter(const std::vector<at::Tensor>& full_grads);
  void set_accumulate_grads(bool on) { accumulate_grads_ = on; }

  // Bytes of full-parameter buffers alive now over all units of this process, and the peak
  // since reset_peak_full_bytes(); the FSDP memory test reads these.
  static int64_t live_full_bytes();
  static int64_t peak_full_bytes();
  static void reset_peak_full_bytes();

 private:
  int unit_;
  Collectives& group_;
  int k_, rank_;
  std::vector<Slot> slots_;
  int64_t shard_numel_ = 0;
  at::Tensor weights_, grads_, exp_avg_, exp_avg_sq_, mask_;
  at::Tensor full_;  // k * shard_numel() floats, parameter-major; aliases weights_ if k == 1.
  bool gathered_ = false;
  bool accumulate_grads_ = false;
  at::Tensor anchor_;  // A scalar requiring grad, so autograd records training_params().
};

}  // namespace journey
