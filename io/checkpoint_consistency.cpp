#include "io/checkpoint_consistency.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "common/error.h"

namespace journey {
namespace {

// Rows read per block: about this many bytes of the parameter.
constexpr int64_t kBlockBytes = 4 << 20;

// What a pass over one mask and its parameter found.
struct MaskScan {
  int64_t bad_values = 0;        // Mask entries other than 0 and 1.
  int64_t first_bad_index = -1;  // Flat index of the first one.
  int bad_value = 0;
  int64_t pruned_nonzero = 0;  // Parameter entries != 0 where the mask is 0.
  int64_t first_pruned_nonzero = -1;
};

std::string location(int64_t flat_index, const TensorInfo& info) {
  const int64_t row_elements = info.row_elements();
  return "row " + std::to_string(flat_index / row_elements) + ", element " +
         std::to_string(flat_index % row_elements) + " of that row";
}

MaskScan scan(const CheckpointReader& reader, const std::string& mask_path,
              const std::string& param_path, const TensorInfo& info) {
  MaskScan result;
  const int64_t row_elements = info.row_elements();
  if (info.rows() == 0 || row_elements == 0) return result;
  const int64_t block_rows = std::clamp<int64_t>(kBlockBytes / (row_elements * 4), 1, info.rows());
  std::vector<uint8_t> mask(static_cast<size_t>(block_rows * row_elements));
  std::vector<float> param(mask.size());
  for (int64_t begin = 0; begin < info.rows(); begin += block_rows) {
    const int64_t count = std::min(block_rows, info.rows() - begin);
    reader.read_rows(mask_path, begin, count, mask.data());
    reader.read_rows(param_path, begin, count, param.data());
    const int64_t n = count * row_elements;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t flat = begin * row_elements + i;
      if (mask[i] > 1) {
        if (result.bad_values++ == 0) {
          result.first_bad_index = flat;
          result.bad_value = mask[i];
        }
      } else if (mask[i] == 0 && param[i] != 0.0f) {
        if (result.pruned_nonzero++ == 0) result.first_pruned_nonzero = flat;
      }
    }
  }
  return result;
}

void check_mask(const CheckpointReader& reader, const std::string& name,
                std::vector<CheckpointProblem>& problems) {
  const std::string mask_path = std::string(checkpoint::kMasks) + "/" + name;
  const std::string param_path = std::string(checkpoint::kParams) + "/" + name;
  if (!reader.contains(param_path)) {
    problems.push_back({mask_path, "has no parameter " + param_path});
    return;
  }
  TensorInfo mask = reader.info(mask_path);
  TensorInfo param = reader.info(param_path);
  bool comparable = true;
  if (mask.dtype != DType::kUInt8) {
    problems.push_back({mask_path, std::string("holds ") + dtype_name(mask.dtype) +
                                       ", expected uint8 (0 = pruned, 1 = kept)"});
    comparable = false;
  }
  if (param.dtype != DType::kFloat32) {
    problems.push_back(
        {param_path, std::string("holds ") + dtype_name(param.dtype) + ", expected float32"});
    comparable = false;
  }
  if (mask.shape != param.shape) {
    problems.push_back({mask_path, "has shape " + shape_text(mask.shape) + " but " + param_path +
                                       " has " + shape_text(param.shape)});
    comparable = false;
  }
  if (!comparable) return;
  MaskScan found = scan(reader, mask_path, param_path, mask);
  if (found.bad_values > 0) {
    problems.push_back({mask_path, "holds " + std::to_string(found.bad_values) +
                                       " values other than 0 and 1 (the first, " +
                                       std::to_string(found.bad_value) + ", at " +
                                       location(found.first_bad_index, mask) + ")"});
  }
  if (found.pruned_nonzero > 0) {
    problems.push_back({param_path, "has " + std::to_string(found.pruned_nonzero) +
                                        " nonzero values where " + mask_path +
                                        " is 0 (the first at " +
                                        location(found.first_pruned_nonzero, mask) + ")"});
  }
}

void check_moment(const CheckpointReader& reader, const std::string& group, const std::string& name,
                  std::vector<CheckpointProblem>& problems) {
  const std::string moment_path = group + "/" + name;
  const std::string param_path = std::string(checkpoint::kParams) + "/" + name;
  if (!reader.contains(param_path)) {
    problems.push_back({moment_path, "has no parameter " + param_path});
    return;
  }
  TensorInfo moment = reader.info(moment_path);
  TensorInfo param = reader.info(param_path);
  if (moment.shape != param.shape) {
    problems.push_back({moment_path, "has shape " + shape_text(moment.shape) + " but " +
                                         param_path + " has " + shape_text(param.shape)});
  }
}

}  // namespace

std::vector<CheckpointProblem> check_counters(const CheckpointReader& reader) {
  std::vector<CheckpointProblem> problems;
  std::map<std::string, int64_t> counters;
  for (const char* name :
       {checkpoint::kStepAttr, checkpoint::kAdamStepsAttr, checkpoint::kTokensSeenAttr}) {
    if (!reader.has_attr(name)) continue;
    const CheckpointReader::AttrValue value = reader.attr(name);
    if (const int64_t* i = std::get_if<int64_t>(&value)) {
      counters[name] = *i;
    } else {
      problems.push_back({"/", std::string("attribute ") + name + " is not an integer"});
    }
  }
  auto counter = [&](const char* name) {
    auto it = counters.find(name);
    return it == counters.end() ? std::optional<int64_t>() : it->second;
  };
  const auto step = counter(checkpoint::kStepAttr), adam = counter(checkpoint::kAdamStepsAttr),
             tokens = counter(checkpoint::kTokensSeenAttr);
  if ((step && *step < 0) || (adam && *adam < 0) || (step && adam && *adam > *step) ||
      (tokens && *tokens < 0)) {
    auto text = [](std::optional<int64_t> v) { return v ? std::to_string(*v) : "none"; };
    problems.push_back({"/", "impossible counters: step " + text(step) + ", adam_steps " +
                                 text(adam) + ", tokens_seen " + text(tokens) +
                                 " (expected 0 <= adam_steps <= step and tokens_seen >= 0)"});
  }
  return problems;
}

std::vector<CheckpointProblem> check_consistency(const CheckpointReader& reader) {
  std::vector<CheckpointProblem> problems = check_counters(reader);
  // A read failure is reported against the dataset being checked and the check moves on.
  auto guarded = [&](const std::string& dataset, auto&& check) {
    try {
      check();
    } catch (const DataError& e) {
      problems.push_back({dataset, e.what()});
    }
  };
  for (const std::string& name : reader.list(checkpoint::kMasks)) {
    guarded(std::string(checkpoint::kMasks) + "/" + name,
            [&] { check_mask(reader, name, problems); });
  }
  for (const char* group : {checkpoint::kExpAvg, checkpoint::kExpAvgSq}) {
    for (const std::string& name : reader.list(group)) {
      guarded(std::string(group) + "/" + name,
              [&] { check_moment(reader, group, name, problems); });
    }
  }
  return problems;
}

}  // namespace journey
