#include "io/hdf5_handles.h"

#include <vector>

#include "common/error.h"

namespace journey::h5 {
namespace {

// How many of the innermost descriptions to quote: the innermost one says what went wrong
// ("Fletcher32 checksum failed", "truncated file: eof = ..."), the next one or two say
// where; the outer ones only repeat the API call.
constexpr size_t kQuotedCauses = 3;

herr_t collect_description(unsigned /*n*/, const H5E_error2_t* error, void* data) {
  auto* descriptions = static_cast<std::vector<std::string>*>(data);
  if (error->desc != nullptr && error->desc[0] != '\0') descriptions->push_back(error->desc);
  return 0;
}

}  // namespace

void silence_error_printing() {
  thread_local bool silenced = false;
  if (silenced) return;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  silenced = true;
}

std::string take_error_text() {
  std::vector<std::string> descriptions;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_description, &descriptions);
  H5Eclear2(H5E_DEFAULT);
  std::string text;
  size_t quoted = 0;
  for (const std::string& d : descriptions) {
    if (quoted == kQuotedCauses) break;
    if (text.find(d) != std::string::npos) continue;
    text += (text.empty() ? "" : "; ") + d;
    ++quoted;
  }
  return text;
}

void fail(const std::string& file, const std::string& object, const std::string& action) {
  std::string cause = take_error_text();
  std::string message = file;
  if (!object.empty()) message += ", " + object;
  message += ": cannot " + action;
  if (!cause.empty()) message += " (HDF5: " + cause + ")";
  throw DataError(message);
}

}  // namespace journey::h5
