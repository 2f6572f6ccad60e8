// bfloat16 autocast on one device type for the life of a scope (the C++ side of
// torch.autocast): the operations of a forward pass that autocast lists (matmuls, attention)
// run in bfloat16. The linear weights arrive as bfloat16 copies already
// (worker/sharded_unit.h); autocast casts the activations to match.
#pragma once

#include <ATen/autocast_mode.h>

namespace journey {

// Autocast to bfloat16 on `device`'s type while the scope lives; nothing when `on` is false.
class AutocastScope {
 public:
  AutocastScope(bool on, at::Device device) : on_(on), type_(device.type()) {
    if (!on_) return;
    was_enabled_ = at::autocast::is_autocast_enabled(type_);
    was_dtype_ = at::autocast::get_autocast_dtype(type_);
    at::autocast::set_autocast_enabled(type_, true);
    at::autocast::set_autocast_dtype(type_, at::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!on_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(type_, was_enabled_);
    at::autocast::set_autocast_dtype(type_, was_dtype_);
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool on_;
  at::DeviceType type_;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kBFloat16;
};

}  // namespace journey
