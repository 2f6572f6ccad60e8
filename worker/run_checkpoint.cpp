#include "worker/run_checkpoint.h"

#include <c10/core/GradMode.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include "common/error.h"
#include "io/checkpoint_consistency.h"
#include "io/checkpoint_file.h"

namespace journey {
namespace {

std::string tensor_path(const char* group, const std::string& name) {
  return std::string(group) + "/" + name;
}

// The first line where two INI texts differ, for the error message.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream ia(a), ib(b);
  std::string la, lb, section;
  while (std::getline(ia, la) && std::getline(ib, lb)) {
    if (!la.empty() && la[0] == '[') section = la.substr(1, la.size() - 2) + ".";
    if (la != lb) return "checkpoint has " + section + la + ", this run has " + section + lb;
  }
  return "the configs differ";
}

}  // namespace

void save_checkpoint(ShardedModel& model, const CheckpointMeta& meta, const MetricsHistory& history,
                     const std::string& path) {
  c10::AutoGradMode no_grad(false);
  Collectives& group = model.group();
  const bool leader = group.rank() == 0;
  // Only the leader writes, so only it can fail (a full disk, a read-only directory): it
  // keeps joining the gathers after a failure, and the group agrees on the outcome at the
  // end, so that every rank stops with an error instead of waiting for a leader that left.
  std::unique_ptr<CheckpointWriter> writer;
  std::string failure;
  auto leader_writes = [&](const std::function<void()>& write) {
    if (!leader || !failure.empty()) return;
    try {
      write();
    } catch (const std::exception& e) {
      failure = e.what();
      writer.reset();  // Removes the partial temporary file; the old checkpoints stay.
    }
  };
  leader_writes([&] { writer = std::make_unique<CheckpointWriter>(path); });
  const ModelSpec& spec = model.spec();
  for (auto& unit : model.units()) {
    // One unit at a time, one state tensor at a time: every rank's shard goes to the leader,
    // which writes each rank's rows of each parameter as a slab, straight from the gathered
    // buffer. No rank but the leader holds more than its shard.
    const int64_t n = unit->shard_numel();
    auto write_state = [&](const char* group_path, const at::Tensor& local, DType dtype) {
      // On the model's device (the collectives' memory), then to the host for writing.
      at::Tensor mine = local.to(at::kFloat).contiguous();
      at::Tensor shards = leader ? at::empty({group.size() * n}, mine.options()) : at::Tensor();
      group.gather(mine.data_ptr<float>(), leader ? shards.data_ptr<float>() : nullptr, n,
                   ElementType::kFloat32, 0);
      leader_writes([&] {
        shards = shards.cpu();
        if (dtype == DType::kUInt8) shards = shards.to(at::kByte);
        for (int s = 0; s < static_cast<int>(unit->slots().size()); ++s) {
          const ShardedUnit::Slot& slot = unit->slots()[s];
          const ParamSpec& param = spec.params[slot.param];
          if (dtype == DType::kUInt8 && !param.prunable) continue;  // Masks of prunable only.
          const std::string name = tensor_path(group_path, param.name);
          writer->create_tensor(name, dtype, param.shape);
          for (int r = 0; r < group.size(); ++r) {
            const int64_t offset = r * n + slot.offset;
            if (unit->local_rows(s, r) == 0) continue;
            if (dtype == DType::kUInt8) {
              writer->write_rows(name, unit->row_begin(s, r), unit->local_rows(s, r),
                                 shards.data_ptr<uint8_t>() + offset);
            } else {
              writer->write_rows(name, unit->row_begin(s, r), unit->local_rows(s, r),
                                 shards.data_ptr<float>() + offset);
            }
          }
        }
      });
    };
    write_state(checkpoint::kParams, unit->weights(), DType::kFloat32);
    write_state(checkpoint::kExpAvg, unit->exp_avg(), DType::kFloat32);
    write_state(checkpoint::kExpAvgSq, unit->exp_avg_sq(), DType::kFloat32);
    write_state(checkpoint::kMasks, unit->mask(), DType::kUInt8);
  }
  leader_writes([&] {
    writer->set_attr(checkpoint::kStepAttr, meta.step);
    writer->set_attr(checkpoint::kTokensSeenAttr, meta.tokens_seen);
    writer->set_attr(checkpoint::kCellIdAttr, meta.cell_id);
    writer->set_attr(checkpoint::kRunIdAttr, meta.run_id);
    writer->set_attr(checkpoint::kTokenizerHashAttr, meta.tokenizer_hash);
    writer->set_attr(checkpoint::kDataFingerprintAttr, meta.data_fingerprint);
    writer->set_attr(checkpoint::kConfigAttr, meta.config_ini);
    writer->set_attr(checkpoint::kWrittenByRanksAttr, static_cast<int64_t>(model.group().size()));
    writer->set_attr(checkpoint::kAdamStepsAttr, meta.adam_steps);
    writer->set_attr("keep", meta.keep);
    writer->set_attr("prunable_params", spec.prunable_count());
    writer->write_blob(checkpoint::kTokenizerModelBlob, meta.tokenizer_model);
    history.save(*writer);
    writer->commit();
  });
  int64_t failed = failure.empty() ? 0 : 1;
  group.all_reduce_max(&failed, 1, ElementType::kInt64);
  if (failed != 0) {
    throw DataError(leader ? "cannot write checkpoint " + path + ": " + failure
                           : "the group's leader could not write checkpoint " + path);
  }
}

namespace {

// This rank's part of load_checkpoint(): everything but the group's agreement. Adds the
// consistency problems of its rows to problems[0] (mask values other than 0 and 1) and
// problems[1] (nonzero pruned weights).
CheckpointMeta read_my_rows(ShardedModel& model, const std::string& path, const RunConfig& expected,
                            const std::string& tokenizer_hash, const std::string& data_fingerprint,
                            MetricsHistory* history, double problems[2]) {
  CheckpointReader reader = CheckpointReader::open(path);
  const std::vector<CheckpointProblem> edited = reader.verify_attributes();
  if (!edited.empty()) throw DataError("checkpoint " + path + ": " + edited.front().error);
  CheckpointMeta meta;
  meta.config_ini = reader.attr_string(checkpoint::kConfigAttr);
  if (reader.has_attr(checkpoint::kRunIdAttr)) {
    meta.run_id = reader.attr_string(checkpoint::kRunIdAttr);
  }
  meta.tokenizer_hash = reader.attr_string(checkpoint::kTokenizerHashAttr);
  if (meta.tokenizer_hash != tokenizer_hash) {
    throw UsageError("checkpoint " + path + " was trained with tokenizer " + meta.tokenizer_hash +
                     " but the dataset's tokenizer is " + tokenizer_hash);
  }
  // Checkpoints written before the data was recorded resume on the tokenizer's check alone.
  if (reader.has_attr(checkpoint::kDataFingerprintAttr)) {
    meta.data_fingerprint = reader.attr_string(checkpoint::kDataFingerprintAttr);
    if (!data_fingerprint.empty() && meta.data_fingerprint != data_fingerprint) {
      throw UsageError("checkpoint " + path + " was trained on other data (" +
                       meta.data_fingerprint + ") than data.dir now holds (" + data_fingerprint +
                       "): resume on the run's dataset, or start afresh (--fresh)");
    }
  }
  // Comparing the keys that shape training catches a checkpoint of another run that shares
  // the directory, and a resume with a changed config.
  const std::string want = training_identity(expected);
  const std::string have =
      training_identity(parse_config_text(meta.config_ini, "config stored in " + path));
  if (want != have) {
    throw UsageError("checkpoint " + path +
                     " belongs to another run: " + first_difference(have, want));
  }
  const std::vector<CheckpointProblem> counters = check_counters(reader);
  if (!counters.empty()) throw DataError("checkpoint " + path + ": " + counters[0].error);
  meta.step = reader.attr_int(checkpoint::kStepAttr);
  meta.tokens_seen = reader.attr_int(checkpoint::kTokensSeenAttr);
  meta.cell_id = reader.attr_string(checkpoint::kCellIdAttr);
  meta.adam_steps = reader.attr_int(checkpoint::kAdamStepsAttr);
  meta.keep = reader.attr_double("keep");
  meta.tokenizer_model = reader.read_blob("state/tokenizer_model");

  // Masks must be 0/1 and pruned weights zero (io/checkpoint_consistency.h). Each rank checks
  // its own rows.
  const ModelSpec& spec = model.spec();
  for (auto& unit : model.units()) {
    for (int s = 0; s < static_cast<int>(unit->slots().size()); ++s) {
      const ParamSpec& param = spec.params[unit->slots()[s].param];
      auto read_into = [&](const char* group, at::Tensor& flat) {
        const std::string name = tensor_path(group, param.name);
        if (!reader.contains(name)) {
          throw DataError("checkpoint " + path + " has no dataset " + name);
        }
        const TensorInfo info = reader.info(name);
        if (info.shape != param.shape) {
          throw DataError("checkpoint " + path + ": dataset " + name + " has shape " +
                          shape_text(info.shape) + ", the model expects " +
                          shape_text(param.shape));
        }
        at::Tensor rows = unit->local_rows_of(flat, s);  // On the model's device.
        if (flat.scalar_type() == at::kBool) {
          at::Tensor bytes = at::empty(rows.sizes(), at::kByte);
          reader.read_rows(name, unit->row_begin(s), unit->local_rows(s),
                           bytes.data_ptr<uint8_t>());
          problems[0] += bytes.gt(1).sum().item<int64_t>();
          rows.copy_(bytes.to(at::kBool));
        } else if (rows.is_cpu()) {
          reader.read_rows(name, unit->row_begin(s), unit->local_rows(s), rows.data_ptr<float>());
        } else {
          at::Tensor host = at::empty(rows.sizes(), at::kFloat);
          reader.read_rows(name, unit->row_begin(s), unit->local_rows(s), host.data_ptr<float>());
          rows.copy_(host);
        }
      };
      read_into(checkpoint::kParams, unit->weights());
      read_into(checkpoint::kExpAvg, unit->exp_avg());
      read_into(checkpoint::kExpAvgSq, unit->exp_avg_sq());
      if (param.prunable) {
        read_into(checkpoint::kMasks, unit->mask());
        const at::Tensor weights = unit->local_rows_of(unit->weights(), s);
        const at::Tensor mask = unit->local_rows_of(unit->mask(), s);
        problems[1] += weights.ne(0).logical_and(mask.logical_not()).sum().item<int64_t>();
      }
    }
  }
  if (history != nullptr) *history = MetricsHistory::load(reader);
  return meta;
}

}  // namespace

CheckpointMeta load_checkpoint(ShardedModel& model, const std::string& path,
                               const RunConfig& expected, const std::string& tokenizer_hash,
                               MetricsHistory* history, const std::string& data_fingerprint) {
  c10::AutoGradMode no_grad(false);
  // Every rank reads the file itself, so one rank can fail where the others do not (a node
  // that does not see the file, an I/O error): the group agrees on the outcome before any
  // rank goes on, so that all stop together instead of some waiting in the next collective.
  double status[3] = {0, 0, 0};  // Mask problems, pruned-weight problems, failed ranks.
  CheckpointMeta meta;
  std::exception_ptr failure;
  try {
    meta = read_my_rows(model, path, expected, tokenizer_hash, data_fingerprint, history, status);
  } catch (const std::exception&) {
    failure = std::current_exception();
    status[2] = 1;
  }
  model.group().all_reduce_sum(status, 3, ElementType::kFloat64);
  if (failure) std::rethrow_exception(failure);
  if (status[2] > 0) {
    throw DataError("checkpoint " + path + " could not be read by " +
                    std::to_string(static_cast<int64_t>(status[2])) +
                    " other rank(s) of the group (their logs say why)");
  }
  if (status[0] > 0 || status[1] > 0) {
    throw DataError("checkpoint " + path +
                    " is inconsistent: " + std::to_string(static_cast<int64_t>(status[0])) +
                    " mask values other than 0 and 1, " +
                    std::to_string(static_cast<int64_t>(status[1])) +
                    " nonzero weights where the mask is 0 (see journey inspect " + path + ")");
  }
  return meta;
}

}  // namespace journey
