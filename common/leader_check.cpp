#include "common/leader_check.h"

#include <cstdint>
#include <exception>

#include "common/error.h"
#include "common/exit_codes.h"

namespace journey {

int agree_on_leader_check(Collectives& ranks, const std::function<void()>& check) {
  std::exception_ptr error;
  int64_t code = exit_code::kOk;
  if (ranks.rank() == 0) {
    try {
      check();
    } catch (const UsageError&) {
      error = std::current_exception();
      code = exit_code::kUsage;
    } catch (const std::exception&) {
      error = std::current_exception();
      code = exit_code::kFailure;
    }
  }
  ranks.all_reduce_max(&code, 1, ElementType::kInt64);
  if (error) std::rethrow_exception(error);
  return static_cast<int>(code);
}

}  // namespace journey
