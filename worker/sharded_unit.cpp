#include "worker/sharded_unit.h"

#include <ATen/native/Resize.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "worker/kernels.h"

namespace journey {
namespace {

std::atomic<int64_t> g_live_full_bytes{0};
std::atomic<int64_t> g_peak_full_bytes{0};

void add_live(int64_t bytes) {
  const int64_t now = g_live_full_bytes += bytes;
  int64_t peak = g_peak_full_bytes.load();
  while (now > peak && !g_peak_full_bytes.compare_exchange_weak(peak, now)) {
  }
}

// The autograd node of a unit's full parameters. Forward hands out the full tensors;
// backward runs once autograd has every gradient of them (it waits for all outputs), which
// is exactly when FSDP reduce-scatters and frees the unit.
struct UnitParamsFunction : public torch::autograd::Function<UnitParamsFunction> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                const at::Tensor& /*anchor*/, ShardedUnit* unit) {
    ctx->saved_data["unit"] = reinterpret_cast<int64_t>(unit);
    return unit->full_params();
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* unit = reinterpret_cast<ShardedUnit*>(ctx->saved_data["unit"].toInt());
    unit->after_backward(grads);
    return {at::Tensor(), at::Tensor()};
  }
};

// Gives `t`'s storage `bytes` bytes (0 frees it), keeping the storage object, so tensors that
// share it (saved for backward) see the refill. CPU through ATen's own resize; other devices
// swap in an allocation from the storage's allocator.
void resize_storage(at::Tensor& t, int64_t bytes) {
  c10::StorageImpl* storage = t.storage().unsafeGetStorageImpl();
  if (t.is_cpu()) {
    at::native::resize_bytes_cpu(storage, bytes);
    return;
  }
  storage->set_data_ptr_noswap(storage->allocator()->allocate(static_cast<size_t>(bytes)));
  storage->set_nbytes(static_cast<size_t>(bytes));
}

// n bytes from byte `src_at` of flat tensor `src` to byte `dst_at` of flat tensor `dst`
// (any dtypes; both on one device): memcpy on the host when `host` (use_cpu_kernel: the
// gathers copy many small pieces, where a tensor op's bookkeeping would dominate), a device
// copy otherwise.
void copy_bytes(at::Tensor& dst, int64_t dst_at, const at::Tensor& src, int64_t src_at, int64_t n,
                bool host) {
  if (n <= 0) return;
  if (host) {
    std::memcpy(static_cast<char*>(dst.data_ptr()) + dst_at,
                static_cast<const char*>(src.data_ptr()) + src_at, static_cast<size_t>(n));
  } else {
    dst.view(at::kByte).narrow(0, dst_at, n).copy_(src.view(at::kByte).narrow(0, src_at, n));
  }
}

// Float elements: dst[dst_at, dst_at + n) = src[src_at, src_at + n).
void copy_elements(at::Tensor& dst, int64_t dst_at, const at::Tensor& src, int64_t src_at,
                   int64_t n) {
  constexpr int64_t f = sizeof(float);
  copy_bytes(dst, dst_at * f, src, src_at * f, n * f, use_cpu_kernel(dst));
}

}  // namespace

ShardedUnit::ShardedUnit(const ModelSpec& spec, int unit, Collectives& group, at::Device device,
                         at::ScalarType linear_dtype)
    : unit_(unit),
      group_(group),
      k_(group.size()),
      rank_(group.rank()),
      linear_dtype_(linear_dtype) {
  for (int p : spec.unit_params(unit)) {
    const ParamSpec& param = spec.params[p];
    Slot s;
    s.param = p;
    s.shape = param.shape;
    s.rows = param.rows();
    s.row_numel = param.numel() / param.rows();
    s.chunk_rows = (s.rows + k_ - 1) / k_;
    s.offset = shard_numel_;
    s.prunable = param.prunable;
    s.low_precision = param.prunable && linear_dtype != at::kFloat;
    int64_t& section = s.low_precision ? low_numel_ : float_numel_;
    s.pack_offset = section;
    section += s.chunk_numel();
    // Full buffers are parameter-major: each parameter's k chunks in a row. With k == 1 the
    // float32 parameters are read from the shard in place.
    s.full_offset = k_ == 1 && !s.low_precision ? s.offset : k_ * s.pack_offset;
    shard_numel_ += s.chunk_numel();
    slots_.push_back(s);
  }
  const int64_t low_bytes = low_numel_ * static_cast<int64_t>(c10::elementSize(linear_dtype));
  pack_bytes_ = (float_numel_ * static_cast<int64_t>(sizeof(float)) + low_bytes + 3) / 4 * 4;
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(device);
  weights_ = at::zeros({shard_numel_}, f32);
  grads_ = at::zeros({shard_numel_}, f32);
  exp_avg_ = at::zeros({shard_numel_}, f32);
  exp_avg_sq_ = at::zeros({shard_numel_}, f32);
  mask_ = at::zeros({shard_numel_}, at::TensorOptions().dtype(at::kBool).device(device));
  for (int s = 0; s < static_cast<int>(slots_.size()); ++s) local_rows_of(mask_, s).fill_(true);
  anchor_ = at::zeros({}, f32).requires_grad_(true);
  if (k_ == 1) {
    full_ = weights_;
  } else {
    full_ = at::empty({k_ * float_numel_}, f32);
    resize_storage(full_, 0);
  }
  if (low_numel_ > 0) {
    full_low_ = at::empty({k_ * low_numel_}, f32.dtype(linear_dtype));
    resize_storage(full_low_, 0);
  }
  // Nothing to gather: the full parameters are the shard.
  if (k_ == 1 && low_numel_ == 0) state_ = GatherState::kGathered;
}

int64_t ShardedUnit::row_begin(int s) const {
  return row_begin(s, rank_);
}
int64_t ShardedUnit::local_rows(int s) const {
  return local_rows(s, rank_);
}

int64_t ShardedUnit::row_begin(int s, int rank) const {
  return std::min(slots_[s].rows, rank * slots_[s].chunk_rows);
}

int64_t ShardedUnit::local_rows(int s, int rank) const {
  const Slot& slot = slots_[s];
  return std::min(slot.rows, (rank + 1) * slot.chunk_rows) - row_begin(s, rank);
}

at::Tensor ShardedUnit::local_rows_of(const at::Tensor& flat, int s) const {
  const Slot& slot = slots_[s];
  return flat.narrow(0, slot.offset, local_rows(s) * slot.row_numel)
      .view({local_rows(s), slot.row_numel});
}

int64_t ShardedUnit::full_bytes() const {
  const int64_t low = k_ * low_numel_ * static_cast<int64_t>(c10::elementSize(linear_dtype_));
  return (k_ == 1 ? 0 : k_ * float_numel_ * static_cast<int64_t>(sizeof(float))) + low;
}

at::Tensor ShardedUnit::pack_shard() const {
  if (low_numel_ == 0) return weights_;  // All float32, in slot order: the shard as it is.
  at::Tensor pack = at::empty({pack_bytes_}, weights_.options().dtype(at::kByte));
  const int64_t low_start = float_numel_ * static_cast<int64_t>(sizeof(float));
  at::Tensor floats = pack.narrow(0, 0, low_start).view(at::kFloat);
  at::Tensor lows =
      pack.narrow(0, low_start, low_numel_ * c10::elementSize(linear_dtype_)).view(linear_dtype_);
  const int64_t used = low_start + low_numel_ * c10::elementSize(linear_dtype_);
  pack.narrow(0, used, pack_bytes_ - used).zero_();  // Padding to whole words.
  for (const Slot& slot : slots_) {
    at::Tensor& section = slot.low_precision ? lows : floats;
    // The cast to the linear dtype happens here, once per gather, on 1/k of the weights.
    section.narrow(0, slot.pack_offset, slot.chunk_numel())
        .copy_(weights_.narrow(0, slot.offset, slot.chunk_numel()));
  }
  return pack;
}

void ShardedUnit::unpack(const at::Tensor& gathered) {
  // Rank r's section of slot s lands at r * pack_bytes; the full buffers are parameter-major
  // (each parameter's chunks consecutive), hence one copy per rank and slot.
  const bool host = use_cpu_kernel(weights_);
  const int64_t low_start = float_numel_ * static_cast<int64_t>(sizeof(float));
  for (int r = 0; r < k_; ++r) {
    for (const Slot& slot : slots_) {
      const int64_t size = slot.low_precision ? c10::elementSize(linear_dtype_) : sizeof(float);
      at::Tensor& full = slot.low_precision ? full_low_ : full_;
      copy_bytes(full, (slot.full_offset + r * slot.chunk_numel()) * size, gathered,
                 r * pack_bytes_ + (slot.low_precision ? low_start : 0) + slot.pack_offset * size,
                 slot.chunk_numel() * size, host);
    }
  }
}

void ShardedUnit::start_gather() {
  if (state_ != GatherState::kReleased) return;
  c10::AutoGradMode no_grad(false);
  if (k_ > 1) {
    // The collective first: if it cannot start, nothing has changed.
    gather_send_ = pack_shard();
    gather_recv_ = at::empty({k_ * pack_bytes_}, weights_.options().dtype(at::kByte));
    pending_gather_ = group_.start_all_gather(gather_send_.data_ptr(), gather_recv_.data_ptr(),
                                              static_cast<size_t>(pack_bytes_), ElementType::kByte);
    resize_storage(full_, k_ * float_numel_ * static_cast<int64_t>(sizeof(float)));
  }
  if (low_numel_ > 0) {
    resize_storage(full_low_,
                   k_ * low_numel_ * static_cast<int64_t>(c10::elementSize(linear_dtype_)));
  }
  add_live(full_bytes());
  if (k_ == 1) {
    // Only the low-precision copies to make, from the shard, which is the whole parameter.
    for (const Slot& slot : slots_) {
      if (!slot.low_precision) continue;
      full_low_.narrow(0, slot.full_offset, slot.chunk_numel())
          .copy_(weights_.narrow(0, slot.offset, slot.chunk_numel()));
    }
    state_ = GatherState::kGathered;
    return;
  }
  state_ = GatherState::kStarted;
}

void ShardedUnit::finish_gather() {
  if (state_ == GatherState::kReleased) start_gather();
  if (state_ != GatherState::kStarted) return;
  c10::AutoGradMode no_grad(false);
  pending_gather_->wait();
  pending_gather_.reset();
  unpack(gather_recv_);
  gather_send_ = at::Tensor();
  gather_recv_ = at::Tensor();
  state_ = GatherState::kGathered;
}

void ShardedUnit::release() {
  if (k_ == 1 && low_numel_ == 0) return;
  if (state_ == GatherState::kReleased) return;
  if (state_ == GatherState::kStarted) {
    // Released before use: the collective must end before its buffers go.
    pending_gather_->wait();
    pending_gather_.reset();
    gather_send_ = at::Tensor();
    gather_recv_ = at::Tensor();
  }
  if (k_ > 1) resize_storage(full_, 0);
  if (low_numel_ > 0) resize_storage(full_low_, 0);
  add_live(-full_bytes());
  state_ = GatherState::kReleased;
}

std::vector<at::Tensor> ShardedUnit::full_params() {
  TORCH_CHECK(state_ == GatherState::kGathered, "FSDP unit ", unit_,
              ": full parameters asked for before finish_gather()");
  std::vector<at::Tensor> params;
  for (const Slot& slot : slots_) {
    // A fresh tensor on a full buffer's storage (not a view), so that releasing and refilling
    // the storage is seen by every tensor autograd saved.
    const at::Tensor& full = slot.low_precision ? full_low_ : full_;
    at::Tensor t = at::empty({0}, full.options());
    std::vector<int64_t> strides(slot.shape.size(), 1);
    for (int64_t i = static_cast<int64_t>(slot.shape.size()) - 2; i >= 0; --i) {
      strides[i] = strides[i + 1] * slot.shape[i + 1];
    }
    t.set_(full.storage(), slot.full_offset, slot.shape, strides);
    params.push_back(t);
  }
  return params;
}

std::vector<at::Tensor> ShardedUnit::training_params() {
  return UnitParamsFunction::apply(anchor_, this);
}

void ShardedUnit::start_reduce_scatter(const std::vector<at::Tensor>& full_grads) {
  finish_reduce_scatter();
  c10::AutoGradMode no_grad(false);
  // This rank's summed gradients land in grads() or, when accumulating, in a fresh shard
  // added to it once complete.
  reduce_accumulates_ = accumulate_grads_;
  reduce_into_ = reduce_accumulates_ ? at::zeros_like(grads_) : grads_;
  // Rank-major send buffer: block r holds chunk r of every parameter's gradient, padded.
  reduce_send_ = k_ == 1 ? reduce_into_ : at::zeros({k_ * shard_numel_}, grads_.options());
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    // Float32 whatever the dtype of the forward: gradients are summed in fp32.
    at::Tensor g = full_grads[i].to(at::kFloat).contiguous().view({-1});
    for (int r = 0; r < k_; ++r) {
      const int64_t begin = std::min(slot.rows, r * slot.chunk_rows);
      const int64_t end = std::min(slot.rows, (r + 1) * slot.chunk_rows);
      copy_elements(reduce_send_, r * shard_numel_ + slot.offset, g, begin * slot.row_numel,
                    (end - begin) * slot.row_numel);
    }
  }
  if (k_ > 1) {
    pending_reduce_ = group_.start_reduce_scatter_sum(reduce_send_.data_ptr<float>(),
                                                      reduce_into_.data_ptr<float>(), shard_numel_,
                                                      ElementType::kFloat32);
  }
  reduce_pending_ = true;
}

void ShardedUnit::finish_reduce_scatter() {
  if (!reduce_pending_) return;
  c10::AutoGradMode no_grad(false);
  if (pending_reduce_) {
    pending_reduce_->wait();
    pending_reduce_.reset();
  }
  if (reduce_accumulates_) grads_.add_(reduce_into_);
  reduce_send_ = at::Tensor();
  reduce_into_ = at::Tensor();
  reduce_pending_ = false;
}

void ShardedUnit::reduce_scatter(const std::vector<at::Tensor>& full_grads) {
  start_reduce_scatter(full_grads);
  finish_reduce_scatter();
}

void ShardedUnit::after_backward(const std::vector<at::Tensor>& full_grads) {
  if (backward_handler_) {
    backward_handler_(*this, full_grads);
    return;
  }
  reduce_scatter(full_grads);
  release();
}

std::vector<at::Tensor> ShardedUnit::gather_slots(const at::Tensor& flat) {
  at::Tensor local = flat.to(at::kFloat).contiguous();
  at::Tensor all = at::empty({k_ * shard_numel_}, local.options());
  group_.all_gather(local.data_ptr<float>(), all.data_ptr<float>(), shard_numel_,
                    ElementType::kFloat32);
  std::vector<at::Tensor> full;
  for (const Slot& slot : slots_) {
    std::vector<at::Tensor> chunks;
    for (int r = 0; r < k_; ++r) {
      chunks.push_back(all.narrow(0, r * shard_numel_ + slot.offset, slot.chunk_numel()));
    }
    full.push_back(at::cat(chunks).narrow(0, 0, slot.rows * slot.row_numel).view(slot.shape));
  }
  return full;
}

int64_t ShardedUnit::live_full_bytes() {
  return g_live_full_bytes.load();
}
int64_t ShardedUnit::peak_full_bytes() {
  return g_peak_full_bytes.load();
}
void ShardedUnit::reset_peak_full_bytes() {
  g_peak_full_bytes = g_live_full_bytes.load();
}

}  // namespace journey
