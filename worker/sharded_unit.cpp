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
    unit->reduce_scatter(grads);
    unit->release();
    return {at::Tensor(), at::Tensor()};
  }
};

// Gives `t`'s storage `bytes` bytes (0 frees it), keeping the storage object, so tensors that
// share it (saved for backward) see the refill. CPU through ATen's own resize; other devices
// swap in an allocation from the storage's allocator.
void resize_storage(at::Tensor& t, int64_t bytes) {
  c10::StorageImpl* storage = t.storage().unsafeGetStorageImpl();
  if (use_cpu_kernel(t)) {
    at::native::resize_bytes_cpu(storage, bytes);
    return;
  }
  storage->set_data_ptr_noswap(storage->allocator()->allocate(static_cast<size_t>(bytes)));
  storage->set_nbytes(static_cast<size_t>(bytes));
}

// dst[dst_at, dst_at + n) = src[src_at, src_at + n) for flat float tensors: memcpy on the host
// (the gathers copy many small pieces, where a tensor op's bookkeeping would dominate), a
// device copy elsewhere.
void copy_elements(at::Tensor& dst, int64_t dst_at, const at::Tensor& src, int64_t src_at,
                   int64_t n) {
  if (n <= 0) return;
  if (use_cpu_kernel(dst)) {
    std::memcpy(dst.data_ptr<float>() + dst_at, src.data_ptr<float>() + src_at,
                static_cast<size_t>(n) * sizeof(float));
  } else {
    dst.narrow(0, dst_at, n).copy_(src.narrow(0, src_at, n));
  }
}

}  // namespace

ShardedUnit::ShardedUnit(const ModelSpec& spec, int unit, Collectives& group, at::Device device)
    : unit_(unit), group_(group), k_(group.size()), rank_(group.rank()) {
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
    shard_numel_ += s.chunk_numel();
    slots_.push_back(s);
  }
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
    gathered_ = true;
  } else {
    full_ = at::empty({k_ * shard_numel_}, f32);
    resize_storage(full_, 0);
  }
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

void ShardedUnit::gather() {
  if (gathered_) return;
  c10::AutoGradMode no_grad(false);
  const int64_t full_bytes = k_ * shard_numel_ * static_cast<int64_t>(sizeof(float));
  resize_storage(full_, full_bytes);
  add_live(full_bytes);
  // All-gather lands rank-major (rank r's whole shard at r * shard_numel); the full buffer
  // is parameter-major (each parameter's chunks consecutive), hence one copy.
  at::Tensor staging = at::empty({k_ * shard_numel_}, weights_.options());
  group_.all_gather(weights_.data_ptr<float>(), staging.data_ptr<float>(), shard_numel_,
                    ElementType::kFloat32);
  for (int r = 0; r < k_; ++r) {
    for (const Slot& slot : slots_) {
      copy_elements(full_, k_ * slot.offset + r * slot.chunk_numel(), staging,
                    r * shard_numel_ + slot.offset, slot.chunk_numel());
    }
  }
  gathered_ = true;
}

void ShardedUnit::release() {
  if (k_ == 1 || !gathered_) return;
  resize_storage(full_, 0);
  add_live(-k_ * shard_numel_ * static_cast<int64_t>(sizeof(float)));
  gathered_ = false;
}

std::vector<at::Tensor> ShardedUnit::full_params() {
  std::vector<at::Tensor> params;
  for (const Slot& slot : slots_) {
    // A fresh tensor on the full buffer's storage (not a view), so that releasing and
    // refilling the storage is seen by every tensor autograd saved.
    at::Tensor t = at::empty({0}, full_.options());
    std::vector<int64_t> strides(slot.shape.size(), 1);
    for (int64_t i = static_cast<int64_t>(slot.shape.size()) - 2; i >= 0; --i) {
      strides[i] = strides[i + 1] * slot.shape[i + 1];
    }
    t.set_(full_.storage(), k_ * slot.offset, slot.shape, strides);
    params.push_back(t);
  }
  return params;
}

std::vector<at::Tensor> ShardedUnit::training_params() {
  return UnitParamsFunction::apply(anchor_, this);
}

void ShardedUnit::reduce_scatter(const std::vector<at::Tensor>& full_grads) {
  c10::AutoGradMode no_grad(false);
  // This rank's summed gradients land in grads() or, when accumulating, in a fresh shard
  // added to it afterwards.
  at::Tensor into = accumulate_grads_ ? at::zeros_like(grads_) : grads_;
  // Rank-major send buffer: block r holds chunk r of every parameter's gradient, padded.
  at::Tensor send = k_ == 1 ? into : at::zeros({k_ * shard_numel_}, grads_.options());
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    // Float32 whatever the autocast dtype of the forward: gradients are summed in fp32.
    at::Tensor g = full_grads[i].to(at::kFloat).contiguous().view({-1});
    for (int r = 0; r < k_; ++r) {
      const int64_t begin = std::min(slot.rows, r * slot.chunk_rows);
      const int64_t end = std::min(slot.rows, (r + 1) * slot.chunk_rows);
      copy_elements(send, r * shard_numel_ + slot.offset, g, begin * slot.row_numel,
                    (end - begin) * slot.row_numel);
    }
  }
  if (k_ > 1) {
    group_.reduce_scatter_sum(send.data_ptr<float>(), into.data_ptr<float>(), shard_numel_,
                              ElementType::kFloat32);
  }
  if (accumulate_grads_) grads_.add_(into);
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
