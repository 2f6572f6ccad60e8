#include "run/run_progress.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "io/atomic_file.h"
#include "io/whole_file.h"

namespace journey {

// clang-format off
#define JOURNEY_RUN_PROGRESS_FIELDS(X) \
  X(cell_id) X(step) X(total_steps) X(loss) X(lr) X(density) X(tokens_per_s) X(mfu) X(eta_s)
// clang-format on

nlohmann::json to_json(const RunProgress& p) {
  nlohmann::json j;
#define X(field) j[#field] = p.field;
  JOURNEY_RUN_PROGRESS_FIELDS(X)
#undef X
  return j;
}

RunProgress progress_from_json(const nlohmann::json& j, const std::string& origin) {
  RunProgress p;
  const char* key = "";
  try {
#define X(field) \
  key = #field;  \
  j.at(key).get_to(p.field);
    JOURNEY_RUN_PROGRESS_FIELDS(X)
#undef X
  } catch (const nlohmann::json::exception& e) {
    throw DataError(origin + ": key '" + key + "' is missing or not of its type (" + e.what() +
                    ")");
  }
  return p;
}

void write_run_progress(const std::string& dir, const RunProgress& p) {
  write_file_atomically(dir + "/progress.json", to_json(p).dump() + "\n");
}

std::optional<RunProgress> read_run_progress(const std::string& dir) {
  const std::string path = dir + "/progress.json";
  if (!std::filesystem::exists(path)) return std::nullopt;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file_or_empty(path));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + " is not JSON (" + e.what() + ")");
  }
  return progress_from_json(j, path);
}

#undef JOURNEY_RUN_PROGRESS_FIELDS

}  // namespace journey
