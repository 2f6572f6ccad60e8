#include "worker/run_checkpoint.h"

#include <c10/core/GradMode.h>

#include <sstream>

#include "common/error.h"
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
  const bool leader = model.group().rank() == 0;
  std::unique_ptr<CheckpointWriter> writer;
  if (leader) writer = std::make_unique<CheckpointWriter>(path);
  const ModelSpec& spec = model.spec();
  for (auto& unit : model.units()) {
    // Gathered one unit at a time: each collective's result is written, then dropped.
    std::vector<at::Tensor> weights = unit->gather_slots(unit->weights());
    std::vector<at::Tensor> exp_avg = unit->gather_slots(unit->exp_avg());
    std::vector<at::Tensor> exp_avg_sq = unit->gather_slots(unit->exp_avg_sq());
    std::vector<at::Tensor> masks = unit->gather_slots(unit->mask());
    if (!leader) continue;
    for (size_t s = 0; s < unit->slots().size(); ++s) {
      const ParamSpec& param = spec.params[unit->slots()[s].param];
      writer->write_tensor(tensor_path(checkpoint::kParams, param.name), DType::kFloat32,
                           param.shape, weights[s].data_ptr<float>());
      writer->write_tensor(tensor_path(checkpoint::kExpAvg, param.name), DType::kFloat32,
                           param.shape, exp_avg[s].data_ptr<float>());
      writer->write_tensor(tensor_path(checkpoint::kExpAvgSq, param.name), DType::kFloat32,
                           param.shape, exp_avg_sq[s].data_ptr<float>());
      if (param.prunable) {
        at::Tensor mask = masks[s].to(at::kByte).contiguous();
        writer->write_tensor(tensor_path(checkpoint::kMasks, param.name), DType::kUInt8,
                             param.shape, mask.data_ptr<uint8_t>());
      }
    }
  }
  if (!leader) return;
  writer->set_attr(checkpoint::kStepAttr, meta.step);
  writer->set_attr(checkpoint::kTokensSeenAttr, meta.tokens_seen);
  writer->set_attr(checkpoint::kCellIdAttr, meta.cell_id);
  writer->set_attr(checkpoint::kTokenizerHashAttr, meta.tokenizer_hash);
  writer->set_attr(checkpoint::kConfigAttr, meta.config_ini);
  writer->set_attr(checkpoint::kWrittenByRanksAttr, static_cast<int64_t>(model.group().size()));
  writer->set_attr("adam_steps", meta.adam_steps);
  writer->set_attr("keep", meta.keep);
  writer->set_attr("prunable_params", spec.prunable_count());
  writer->write_blob("state/tokenizer_model", meta.tokenizer_model);
  history.save(*writer);
  writer->commit();
}

CheckpointMeta load_checkpoint(ShardedModel& model, const std::string& path,
                               const RunConfig& expected, const std::string& tokenizer_hash,
                               MetricsHistory* history) {
  c10::AutoGradMode no_grad(false);
  CheckpointReader reader = CheckpointReader::open(path);
  CheckpointMeta meta;
  meta.config_ini = reader.attr_string(checkpoint::kConfigAttr);
  meta.tokenizer_hash = reader.attr_string(checkpoint::kTokenizerHashAttr);
  if (meta.tokenizer_hash != tokenizer_hash) {
    throw DataError("checkpoint " + path + " was trained with tokenizer " + meta.tokenizer_hash +
                    " but the dataset's tokenizer is " + tokenizer_hash);
  }
  // Comparing the result-relevant keys catches a checkpoint of another run that shares
  // the directory, and a resume with a changed config.
  const std::string want = result_identity(expected);
  const std::string have =
      result_identity(parse_config_text(meta.config_ini, "config stored in " + path));
  if (want != have) {
    throw DataError("checkpoint " + path +
                    " belongs to another run: " + first_difference(have, want));
  }
  meta.step = reader.attr_int(checkpoint::kStepAttr);
  meta.tokens_seen = reader.attr_int(checkpoint::kTokensSeenAttr);
  meta.cell_id = reader.attr_string(checkpoint::kCellIdAttr);
  meta.adam_steps = reader.attr_int("adam_steps");
  meta.keep = reader.attr_double("keep");
  meta.tokenizer_model = reader.read_blob("state/tokenizer_model");

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
        at::Tensor rows = unit->local_rows_of(flat, s);
        if (flat.scalar_type() == at::kBool) {
          at::Tensor bytes = at::empty(rows.sizes(), at::kByte);
          reader.read_rows(name, unit->row_begin(s), unit->local_rows(s),
                           bytes.data_ptr<uint8_t>());
          rows.copy_(bytes.to(at::kBool));
        } else {
          reader.read_rows(name, unit->row_begin(s), unit->local_rows(s), rows.data_ptr<float>());
        }
      };
      read_into(checkpoint::kParams, unit->weights());
      read_into(checkpoint::kExpAvg, unit->exp_avg());
      read_into(checkpoint::kExpAvgSq, unit->exp_avg_sq());
      if (param.prunable) read_into(checkpoint::kMasks, unit->mask());
    }
  }
  if (history != nullptr) *history = MetricsHistory::load(reader);
  return meta;
}

}  // namespace journey
