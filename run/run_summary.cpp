#include "run/run_summary.h"

#include <type_traits>

#include "common/error.h"
#include "common/named_values.h"

namespace journey {

// The summary's fields but status (an enum, converted by name), in summary.json's order.
// clang-format off
#define JOURNEY_RUN_SUMMARY_FIELDS(X)                                                         \
  X(cell_id) X(reason) X(steps_done) X(total_steps) X(tokens) X(n_initial) X(n_final) X(n_avg) \
  X(n_avg_predicted) X(embedding_params) X(compute) X(final_loss) X(final_eval_loss)         \
  X(wall_s) X(tokens_per_s) X(group_size)
// clang-format on

namespace {

constexpr NamedValue<RunStatus> kRunStatusNames[] = {
    {"done", RunStatus::kDone},
    {"diverged", RunStatus::kDiverged},
    {"preempted", RunStatus::kPreempted},
    {"failed", RunStatus::kFailed},
};

}  // namespace

const char* status_name(RunStatus status) {
  return name_of(kRunStatusNames, status, "unknown");
}

RunStatus parse_run_status(const std::string& name) {
  if (const auto status = value_named(kRunStatusNames, name)) return *status;
  throw DataError("unknown run status '" + name + "' (expected " + names_of(kRunStatusNames) + ")");
}

namespace {

// Numbers that may be NaN travel as null.
template <class T>
void read_value(const nlohmann::json& j, T& out) {
  if constexpr (std::is_floating_point_v<T>) {
    if (j.is_null()) {
      out = std::nan("");
      return;
    }
  }
  if constexpr (std::is_same_v<T, int64_t>) {
    out = json_int64(j);
  } else {
    j.get_to(out);
  }
}

}  // namespace

nlohmann::json RunSummary::to_json() const {
  nlohmann::json j;
  j["status"] = status_name(status);
#define X(field) j[#field] = field;
  JOURNEY_RUN_SUMMARY_FIELDS(X)
#undef X
  return j;
}

RunSummary RunSummary::from_json(const nlohmann::json& j, const std::string& origin) {
  RunSummary s;
  const char* key = "status";
  try {
    s.status = parse_run_status(j.at(key).get<std::string>());
#define X(field) \
  key = #field;  \
  read_value(j.at(key), s.field);
    JOURNEY_RUN_SUMMARY_FIELDS(X)
#undef X
  } catch (const nlohmann::json::exception& e) {
    throw DataError(origin + ": key '" + key + "' is missing or not of its type (" + e.what() +
                    ")");
  } catch (const DataError& e) {
    throw DataError(origin + ": key '" + key + "': " + e.what());
  }
  return s;
}

#undef JOURNEY_RUN_SUMMARY_FIELDS

int64_t json_int64(const nlohmann::json& value) {
  const bool fits =
      value.is_number_integer() &&
      (!value.is_number_unsigned() || value.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX));
  if (!fits) throw DataError("expected an integer of at most 63 bits, found " + value.dump());
  return value.get<int64_t>();
}

std::string summary_json_text(const RunSummary& summary, const RunCosts& costs) {
  nlohmann::json j = summary.to_json();
  j["seconds"] = {
      {"steps", costs.steps_s}, {"collectives", costs.collectives_s}, {"pruning", costs.pruning_s}};
  j["peak_rss_mb_per_rank"] = costs.peak_rss_mb_per_rank;
  j["sharded_state_mb_per_rank"] = costs.sharded_state_mb_per_rank;
  j["final_sparsity"] = nlohmann::json::object();
  for (const auto& [name, sparsity] : costs.final_sparsity) j["final_sparsity"][name] = sparsity;
  return j.dump(2) + "\n";
}

}  // namespace journey
