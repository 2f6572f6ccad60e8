#include "sweep/cell_record.h"

#include <cctype>
#include <type_traits>

#include "common/error.h"
#include "common/named_values.h"
#include "io/sha256.h"
#include "schedules/grid.h"

namespace journey {

namespace {

constexpr NamedValue<CellStatus> kCellStatusNames[] = {
    {"pending", CellStatus::kPending},     {"running", CellStatus::kRunning},
    {"done", CellStatus::kDone},           {"failed", CellStatus::kFailed},
    {"preempted", CellStatus::kPreempted}, {"diverged", CellStatus::kDiverged},
};

}  // namespace

const char* cell_status_name(CellStatus status) {
  return name_of(kCellStatusNames, status, "unknown");
}

CellStatus parse_cell_status(const std::string& name) {
  if (const auto status = value_named(kCellStatusNames, name)) return *status;
  throw DataError("unknown cell status '" + name + "' (expected " + names_of(kCellStatusNames) +
                  ")");
}

namespace {

// What one cell's result depends on: result_identity() (common/config.h) with [sweep] reset.
// The grid only says which cells exist; a cell's config already holds its own size,
// sparsity, schedule, phases, duration, seed, lr and batch.
std::string cell_identity(const RunConfig& config) {
  RunConfig c = config;
  c.sweep = RunConfig().sweep;
  return result_identity(c);
}

}  // namespace

CellRecord CellRecord::from_cell(const Cell& cell) {
  const RunConfig& c = cell.config;
  CellRecord r;
  r.id = cell.id;
  r.size = size_name(c.model);
  r.d_model = c.model.d_model;
  r.n_layers = c.model.n_layers;
  r.n_heads = c.model.n_heads;
  r.sparsity = c.prune.sparsity;
  r.schedule = schedule_name(c.prune.sparsity == 0.0 ? ScheduleKind::kDense : c.prune.schedule);
  r.dense_frac = c.prune.dense_frac;
  r.prune_end_frac = c.prune.prune_end_frac;
  r.tokens_per_param = c.train.tokens_per_param;
  r.seed = c.train.seed;
  r.lr = c.train.lr;
  r.batch_tokens = c.train.batch_tokens;
  r.estimated_flops = cell.estimated_flops;
  r.config_sha256 = sha256_hex(cell_identity(c));
  r.run.cell_id = cell.id;
  return r;
}

// Every field but the status (an enum, converted by name) and the summary, in the ledger's order.
// clang-format off
#define JOURNEY_FIELDS(X)                                                                  \
  X(id) X(size) X(d_model) X(n_layers) X(n_heads) X(sparsity) X(schedule) X(dense_frac)    \
  X(prune_end_frac) X(tokens_per_param) X(seed) X(estimated_flops) X(reason) X(attempts)   \
  X(group) X(group_size) X(wall_s)
// clang-format on

namespace {

bool is_digits(const std::string& s, size_t from, size_t to) {
  if (from >= to) return false;
  for (size_t i = from; i < to; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// "DxLxH" or "DxLxHf<ffn>", as schedules/grid.h size_name() writes it.
bool is_size_name(const std::string& size) {
  const size_t x1 = size.find('x'), x2 = size.find('x', x1 + 1);
  if (x1 == std::string::npos || x2 == std::string::npos) return false;
  const size_t f = size.find('f', x2 + 1);
  const size_t heads_end = f == std::string::npos ? size.size() : f;
  return is_digits(size, 0, x1) && is_digits(size, x1 + 1, x2) &&
         is_digits(size, x2 + 1, heads_end) &&
         (f == std::string::npos || is_digits(size, f + 1, size.size()));
}

// Cell ids are made by the grid from sizes, numbers and schedule names: letters, digits,
// '.', '_' and '-', starting with a letter or digit. They name directories (cells/<id>) and
// appear in figures, so a ledger edited to hold anything else is refused.
bool is_cell_id(const std::string& id) {
  if (id.empty() || id.size() > 255) return false;
  if (!std::isalnum(static_cast<unsigned char>(id[0]))) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

// The names a record brings from the file, checked against the grid's grammar.
void check_names(const CellRecord& r) {
  if (!is_cell_id(r.id)) {
    throw DataError("cell id '" + r.id +
                    "' is not one the grid makes (letters, digits, '.', '_', '-', starting with "
                    "a letter or digit)");
  }
  if (!is_size_name(r.size)) {
    throw DataError("cell " + r.id + ": size '" + r.size + "' is not DxLxH or DxLxHf<ffn>");
  }
  if (r.schedule != "dense" && r.schedule != "geometric" && r.schedule != "cubic") {
    throw DataError("cell " + r.id + ": schedule '" + r.schedule +
                    "' is not dense, geometric or cubic");
  }
  const bool hex = r.config_sha256.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (!r.config_sha256.empty() && (r.config_sha256.size() != 64 || !hex)) {
    throw DataError("cell " + r.id + ": config_sha256 is not 64 lowercase hex digits");
  }
  if (r.run.cell_id != r.id) {
    throw DataError("cell " + r.id + ": its run summary names cell '" + r.run.cell_id + "'");
  }
}

// One key of a record into `field`: integers through json_int64() (run/run_summary.h), so a
// float or an oversized number is a DataError naming the key rather than a bare cast.
template <class T>
void read_field(const nlohmann::json& j, const char* key, T& field) {
  if constexpr (std::is_same_v<T, int64_t>) {
    try {
      field = json_int64(j.at(key));
    } catch (const DataError& e) {
      throw DataError(std::string("malformed cell record: key '") + key + "': " + e.what());
    }
  } else {
    j.at(key).get_to(field);
  }
}

// A parameter count that version 1 wrote as a number of any kind.
int64_t count_of_version_1(const nlohmann::json& j, const char* key) {
  const double count = j.at(key).get<double>();
  // Range first: converting a double beyond int64_t is undefined behaviour.
  if (!(count >= -0x1p63 && count < 0x1p63)) {
    throw DataError(std::string("malformed cell record: key '") + key + "': " + j.at(key).dump() +
                    " is beyond a 64-bit integer");
  }
  return static_cast<int64_t>(count);
}

// Version 1 ledgers kept the results flat in the record, the final eval loss as eval_loss.
RunSummary summary_of_version_1(const nlohmann::json& j, const CellRecord& r) {
  RunSummary s;
  s.cell_id = r.id;
  s.status = r.status == CellStatus::kDone ? RunStatus::kDone : RunStatus::kFailed;
  s.reason = r.reason;
  read_field(j, "steps_done", s.steps_done);
  read_field(j, "total_steps", s.total_steps);
  read_field(j, "tokens", s.tokens);
  s.n_avg = j.at("n_avg").get<double>();
  s.n_final = count_of_version_1(j, "n_final");
  s.n_initial = count_of_version_1(j, "n_initial");
  s.embedding_params = count_of_version_1(j, "embedding_params");
  s.compute = j.at("compute").get<double>();
  s.final_loss = j.at("final_loss").get<double>();
  s.final_eval_loss = j.at("eval_loss").get<double>();
  s.tokens_per_s = j.at("tokens_per_s").get<double>();
  s.group_size = r.group_size;
  return s;
}

}  // namespace

nlohmann::json CellRecord::to_json() const {
  nlohmann::json j;
#define X(field) j[#field] = field;
  JOURNEY_FIELDS(X)
#undef X
  j["status"] = cell_status_name(status);
  j["lr"] = lr;
  j["batch_tokens"] = batch_tokens;
  if (!config_sha256.empty()) j["config_sha256"] = config_sha256;
  j["run"] = run.to_json();
  return j;
}

CellRecord CellRecord::from_json(const nlohmann::json& j, int ledger_version) {
  CellRecord r;
  try {
#define X(field) read_field(j, #field, r.field);
    JOURNEY_FIELDS(X)
#undef X
    r.status = parse_cell_status(j.at("status").get<std::string>());
    r.run = ledger_version == 1 ? summary_of_version_1(j, r)
                                : RunSummary::from_json(j.at("run"), "cell " + r.id);
    // Ledgers written before lr and batch were recorded per cell lack them (0: unknown).
    r.lr = j.value("lr", 0.0);
    if (j.contains("batch_tokens")) read_field(j, "batch_tokens", r.batch_tokens);
    r.config_sha256 = j.value("config_sha256", std::string());
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("malformed cell record: ") + e.what());
  }
  check_names(r);
  return r;
}

#undef JOURNEY_FIELDS

}  // namespace journey
