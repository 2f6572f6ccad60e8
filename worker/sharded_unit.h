// One FSDP unit: the parameters that are used together (the embedding, one transformer
// block, or the final norm with the LM head), sharded over the ranks of a worker group.
//
// Sharding follows FSDP2: every parameter is split along dim 0 into k chunks of
// ceil(rows / k) rows, the last one padded with zero rows. Rank r keeps only chunk r of each
// parameter, of its gradient, of both AdamW moments and of its mask, all packed into flat
// 1-D float32 tensors of shard_numel() elements, so per-rank memory for these is about 1/k.
//
// Full parameters exist only while the unit computes:
//   start_gather()   starts the all-gather of the chunks (one collective per unit) without
//                    waiting for it, so that it can run while another unit computes (FSDP's
//                    prefetch, worker/sharded_model.h);
//   finish_gather()  waits for it (starting it first if nobody did) and lays the chunks out
//                    as full parameters; gather() is both;
//   release()        frees the full buffers (their storage is resized to zero bytes, so tensors
//                    saved for backward keep pointing at it and a gather can refill it in
//                    place);
//   training_params() returns the full tensors as outputs of an autograd node whose backward
//                    receives all of the unit's full gradients at once and hands them to the
//                    backward handler: by default reduce_scatter() (sum) into grads(), then
//                    release(); the model may install one that overlaps the reduce-scatter
//                    with the next unit's backward (start_reduce_scatter / finish_...).
//
// Mixed precision (FSDP2's param_dtype): with `linear_dtype` bfloat16 (train.precision = bf16)
// each rank casts its chunks of the linear weights to bfloat16 before the all-gather, so the
// collective moves half their bytes and the full copies are bfloat16, made once per gather
// rather than by autocast at every use; norm gains and the embedding stay float32, and so do
// the shards, the gradients handed to the optimizer and its state. With k = 1 the float32
// full parameters are the shard itself (nothing is gathered or freed) and only the bfloat16
// copies are made and freed.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <memory>
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
    bool low_precision = false;  // Gathered in the unit's linear dtype (not float32).
    int64_t pack_offset = 0;     // Offset of this rank's chunk in its dtype's send section.
    int64_t full_offset = 0;     // Offset of the full parameter in its full buffer.
    int64_t chunk_numel() const { return chunk_rows * row_numel; }
  };

  // Every tensor of the unit lives on `device` (the collectives must take that memory). The
  // full copies of linear weights (prunable parameters) are `linear_dtype`: float32, or
  // bfloat16 under train.precision = bf16.
  ShardedUnit(const ModelSpec& spec, int unit, Collectives& group, at::Device device = at::kCPU,
              at::ScalarType linear_dtype = at::kFloat);

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

  void start_gather();
  void finish_gather();
  void gather() { finish_gather(); }
  void release();
  bool gathered() const { return state_ == GatherState::kGathered; }
  // Full-shape parameters sharing the full buffers (for evaluation under no-grad); linear
  // weights in the unit's linear dtype.
  std::vector<at::Tensor> full_params();
  // Full-shape parameters recorded by autograd; see the header comment.
  std::vector<at::Tensor> training_params();
  // Collective: every slot's full logical tensor assembled from a flat float shard tensor
  // (weights(), a moment, or the mask converted to float), on every rank of the group.
  std::vector<at::Tensor> gather_slots(const at::Tensor& flat);
  // Reduce-scatters full-shape gradients (in slot order, any float dtype) into grads() (sum
  // over ranks, in float32), replacing them, or adding to them while set_accumulate_grads(true)
  // (micro-batches). start_ returns once the collective is started; grads() is complete after
  // finish_reduce_scatter() (a no-op when nothing is pending). reduce_scatter() is both.
  void start_reduce_scatter(const std::vector<at::Tensor>& full_grads);
  void finish_reduce_scatter();
  void reduce_scatter(const std::vector<at::Tensor>& full_grads);
  void set_accumulate_grads(bool on) { accumulate_grads_ = on; }
  // What the backward of training_params() does with the unit's full gradients; empty
  // restores the default (reduce_scatter, then release).
  using BackwardHandler = std::function<void(ShardedUnit&, const std::vector<at::Tensor>&)>;
  void set_backward_handler(BackwardHandler handler) { backward_handler_ = std::move(handler); }
  // Called by that backward.
  void after_backward(const std::vector<at::Tensor>& full_grads);

  // Bytes of full-parameter buffers alive now over all units of this process, and the peak
  // since reset_peak_full_bytes(); the FSDP memory test reads these.
  static int64_t live_full_bytes();
  static int64_t peak_full_bytes();
  static void reset_peak_full_bytes();

 private:
  enum class GatherState { kReleased, kStarted, kGathered };

  // Bytes of the full buffers this unit allocates while gathered.
  int64_t full_bytes() const;
  // The send buffer of a gather: the shard itself, or its float32 and cast sections packed.
  at::Tensor pack_shard() const;
  // Copies the all-gathered sections of every rank into the full buffers.
  void unpack(const at::Tensor& gathered);

  int unit_;
  Collectives& group_;
  int k_, rank_;
  at::ScalarType linear_dtype_;
  std::vector<Slot> slots_;
  int64_t shard_numel_ = 0;
  int64_t float_numel_ = 0, low_numel_ = 0;  // Chunk elements gathered as float32 / linear dtype.
  int64_t pack_bytes_ = 0;                   // Bytes each rank sends, a multiple of 4.
  at::Tensor weights_, grads_, exp_avg_, exp_avg_sq_, mask_;
  // Full parameters, parameter-major: full_ holds the float32 ones (k * float_numel_; the
  // shard itself when k == 1) and full_low_ the linear weights in linear_dtype_ when it is not
  // float32 (k * low_numel_).
  at::Tensor full_, full_low_;
  GatherState state_ = GatherState::kReleased;
  at::Tensor gather_send_, gather_recv_;  // Alive while a started gather runs.
  std::unique_ptr<PendingCollective> pending_gather_;
  at::Tensor reduce_send_, reduce_into_;  // Alive while a started reduce-scatter runs.
  std::unique_ptr<PendingCollective> pending_reduce_;
  bool reduce_pending_ = false, reduce_accumulates_ = false;
  bool accumulate_grads_ = false;
  BackwardHandler backward_handler_;
  at::Tensor anchor_;  // A scalar requiring grad, so autograd records training_params().
};

}  // namespace journey
