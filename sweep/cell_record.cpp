#include "sweep/cell_record.h"

#include "common/error.h"
#include "schedules/grid.h"

namespace journey {

const char* cell_status_name(CellStatus status) {
  switch (status) {
    case CellStatus::kPending:
      return "pending";
    case CellStatus::kRunning:
      return "running";
    case CellStatus::kDone:
      return "done";
    case CellStatus::kFailed:
      return "failed";
    case CellStatus::kPreempted:
      return "preempted";
  }
  return "unknown";
}

CellStatus parse_cell_status(const std::string& name) {
  for (CellStatus s : {CellStatus::kPending, CellStatus::kRunning, CellStatus::kDone,
                       CellStatus::kFailed, CellStatus::kPreempted}) {
    if (name == cell_status_name(s)) return s;
  }
  throw DataError("unknown cell status '" + name + "'");
}

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
  r.estimated_flops = cell.estimated_flops;
  return r;
}

// Every field but the status (an enum, converted by name), in the ledger's order.
// clang-format off
#define JOURNEY_FIELDS(X)                                                                  \
  X(id) X(size) X(d_model) X(n_layers) X(n_heads) X(sparsity) X(schedule) X(dense_frac)    \
  X(prune_end_frac) X(tokens_per_param) X(seed) X(estimated_flops) X(reason) X(attempts)   \
  X(group) X(group_size) X(steps_done) X(total_steps) X(tokens) X(n_avg) X(n_final)        \
  X(n_initial) X(embedding_params) X(compute) X(final_loss) X(eval_loss) X(wall_s)         \
  X(tokens_per_s)
// clang-format on

nlohmann::json CellRecord::to_json() const {
  nlohmann::json j;
#define X(field) j[#field] = field;
  JOURNEY_FIELDS(X)
#undef X
  j["status"] = cell_status_name(status);
  return j;
}

CellRecord CellRecord::from_json(const nlohmann::json& j) {
  CellRecord r;
  try {
#define X(field) j.at(#field).get_to(r.field);
    JOURNEY_FIELDS(X)
#undef X
    r.status = parse_cell_status(j.at("status").get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("malformed cell record: ") + e.what());
  }
  return r;
}

#undef JOURNEY_FIELDS

}  // namespace journey
