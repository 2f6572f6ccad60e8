#include "interop/hf_import.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "interop/hf_export.h"
#include "interop/safetensors_reader.h"
#include "io/checkpoint_dir.h"
#include "io/checkpoint_file.h"
#include "io/sha256.h"
#include "run/metrics_history.h"
#include "schedules/model_spec.h"

namespace journey {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError("cannot read " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw DataError("cannot read " + path);
  return text;
}

json read_json(const std::string& path) {
  try {
    return json::parse(read_whole(path));
  } catch (const json::exception& e) {
    throw DataError(path + " is not valid JSON: " + e.what());
  }
}

std::string random_run_id() {
  std::random_device random;
  char text[33];
  std::snprintf(text, sizeof text, "%08x%08x%08x%08x", random(), random(), random(), random());
  return text;
}

// A config.json integer the model needs, or a DataError naming the key.
int64_t required_int(const json& c, const std::string& file, const char* key) {
  if (!c.contains(key) || !c[key].is_number_integer() || c[key].get<int64_t>() <= 0) {
    throw DataError(file + ": " + key + " is missing or not a positive integer");
  }
  return c[key].get<int64_t>();
}

// The run's config for a LlamaConfig: the model from config.json, the rest from `base`.
RunConfig config_from_llama(const json& c, const std::string& file, RunConfig base) {
  auto refuse = [&](const std::string& key, const std::string& why) {
    throw UsageError(file + ": " + key + " " + why + ", which Journey's Llama cannot express");
  };
  if (!c.is_object()) throw DataError(file + " is not a JSON object");
  if (c.contains("model_type") && c["model_type"] != "llama") {
    refuse("model_type", "is " + c["model_type"].dump());
  }
  if (c.value("tie_word_embeddings", false)) refuse("tie_word_embeddings", "is true");
  if (c.value("attention_bias", false)) refuse("attention_bias", "is true");
  if (c.value("mlp_bias", false)) refuse("mlp_bias", "is true");
  if (c.contains("rope_scaling") && !c["rope_scaling"].is_null()) {
    refuse("rope_scaling", "is set");
  }
  if (c.contains("hidden_act") && c["hidden_act"] != "silu") {
    refuse("hidden_act", "is " + c["hidden_act"].dump());
  }
  const int64_t d_model = required_int(c, file, "hidden_size");
  const int64_t heads = required_int(c, file, "num_attention_heads");
  if (c.contains("num_key_value_heads") && !c["num_key_value_heads"].is_null() &&
      c["num_key_value_heads"] != heads) {
    refuse("num_key_value_heads", "is " + c["num_key_value_heads"].dump() +
                                      " (grouped-query attention), not num_attention_heads");
  }
  if (d_model % heads != 0) {
    refuse("hidden_size", "is not a multiple of num_attention_heads");
  }
  if (c.contains("head_dim") && !c["head_dim"].is_null() && c["head_dim"] != d_model / heads) {
    refuse("head_dim", "is not hidden_size / num_attention_heads");
  }
  if (c.contains("pretraining_tp") && c["pretraining_tp"] != 1) {
    refuse("pretraining_tp", "is not 1");
  }
  ModelConfig m;
  m.d_model = d_model;
  m.n_heads = heads;
  m.n_layers = required_int(c, file, "num_hidden_layers");
  m.ffn_dim = required_int(c, file, "intermediate_size");
  if (m.ffn_dim == 4 * m.d_model) m.ffn_dim = 0;  // The config's own spelling of the default.
  m.seq_len = required_int(c, file, "max_position_embeddings");
  m.norm_eps = c.value("rms_norm_eps", 1e-6);  // LlamaConfig's defaults.
  m.rope_base = c.value("rope_theta", 10000.0);
  // transformers 5 writes rope_parameters {"rope_type", "rope_theta"} in place of rope_theta
  // and rope_scaling; only the default (unscaled) rotation is Journey's.
  if (c.contains("rope_parameters") && !c["rope_parameters"].is_null()) {
    const json& rope = c["rope_parameters"];
    if (!rope.is_object()) refuse("rope_parameters", "is not an object");
    if (rope.value("rope_type", "default") != "default") {
      refuse("rope_parameters.rope_type", "is " + rope["rope_type"].dump());
    }
    for (auto it = rope.begin(); it != rope.end(); ++it) {
      if (it.key() != "rope_type" && it.key() != "rope_theta") {
        refuse("rope_parameters." + it.key(), "is set");
      }
    }
    if (rope.contains("rope_theta")) m.rope_base = rope["rope_theta"].get<double>();
  }
  m.family = ModelFamily::kLlama;
  const int64_t vocab = required_int(c, file, "vocab_size");
  // A [model] key the training config sets (not at its default) must agree with config.json.
  const ModelConfig defaults;
  const ModelConfig& given = base.model;
  auto agree = [&](const char* key, double ours, double theirs, double default_value) {
    if (ours != default_value && ours != theirs) {
      std::ostringstream value;
      value << ours;
      throw UsageError("model." + std::string(key) + " = " + value.str() +
                       " in the training config contradicts " + file);
    }
  };
  agree("d_model", given.d_model, m.d_model, defaults.d_model);
  agree("n_layers", given.n_layers, m.n_layers, defaults.n_layers);
  agree("n_heads", given.n_heads, m.n_heads, defaults.n_heads);
  agree("ffn_dim", given.ffn_dim, m.ffn(), defaults.ffn_dim);
  agree("rope_base", given.rope_base, m.rope_base, defaults.rope_base);
  agree("norm_eps", given.norm_eps, m.norm_eps, defaults.norm_eps);
  if (given.family != ModelFamily::kLlama) {
    throw UsageError("model.family = " + std::string(family_name(given.family)) +
                     " in the training config: a Hugging Face Llama folder is a llama model");
  }
  if (given.seq_len != defaults.seq_len) {
    if (given.seq_len > m.seq_len) {
      throw UsageError("model.seq_len = " + std::to_string(given.seq_len) +
                       " in the training config exceeds max_position_embeddings in " + file);
    }
    m.seq_len = given.seq_len;
  }
  base.model = m;
  if (base.data.vocab_size != DataConfig{}.vocab_size && base.data.vocab_size != vocab) {
    throw UsageError("data.vocab_size in the training config contradicts vocab_size in " + file);
  }
  base.data.vocab_size = vocab;
  return base;
}

// The float32 x whose product with `scale` is `y` (the export's fl(x * scale)): y / scale or
// a neighbour of it; y / scale when none is (a foreign model).
float unscale(float y, float scale) {
  const float x = y / scale;
  if (x * scale == y) return x;
  for (float candidate : {std::nextafter(x, -INFINITY), std::nextafter(x, INFINITY)}) {
    if (candidate * scale == y) return candidate;
  }
  return x;
}

// A matrix's mask from masks.safetensors' CSR.
std::vector<uint8_t> read_csr_mask(const SafetensorsReader& masks, const std::string& name,
                                   int64_t rows, int64_t cols) {
  auto bad = [&](const std::string& what) {
    return DataError("safetensors file " + masks.path() + ": mask " + name + ": " + what);
  };
  const auto shape = masks.metadata().find(name + ".shape");
  if (shape == masks.metadata().end()) throw bad("no " + name + ".shape in the metadata");
  if (shape->second != std::to_string(rows) + "," + std::to_string(cols)) {
    throw bad("shape " + shape->second + ", the model's is " + std::to_string(rows) + "," +
              std::to_string(cols));
  }
  const std::vector<int64_t> indptr = masks.read_i64(name + ".indptr");
  const std::vector<int64_t> indices = masks.read_i64(name + ".indices");
  if (indptr.size() != static_cast<size_t>(rows + 1) || indptr.front() != 0 ||
      indptr.back() != static_cast<int64_t>(indices.size())) {
    throw bad("indptr does not describe " + std::to_string(rows) + " rows of the indices");
  }
  std::vector<uint8_t> mask(static_cast<size_t>(rows * cols), 0);
  for (int64_t r = 0; r < rows; ++r) {
    if (indptr[r + 1] < indptr[r]) throw bad("indptr decreases at row " + std::to_string(r));
    for (int64_t k = indptr[r]; k < indptr[r + 1]; ++k) {
      const int64_t col = indices[k];
      if (col < 0 || col >= cols || (k > indptr[r] && col <= indices[k - 1])) {
        throw bad("row " + std::to_string(r) + " lists column " + std::to_string(col) +
                  " out of range or out of order");
      }
      mask[static_cast<size_t>(r * cols + col)] = 1;
    }
  }
  return mask;
}

}  // namespace

ImportResult import_hf_folder(const std::string& hf_dir, const std::string& out,
                              const std::string& config_path) {
  std::error_code ec;
  if (!fs::is_directory(hf_dir, ec)) {
    throw UsageError(hf_dir + " is not a directory (expected a Hugging Face Llama folder)");
  }
  const std::string dir = hf_dir + "/";
  if (!fs::exists(dir + "model.safetensors") && fs::exists(dir + "model.safetensors.index.json")) {
    throw UsageError(hf_dir + " holds a sharded model (model.safetensors.index.json), which " +
                     "journey import does not read; save it unsharded");
  }
  ImportResult result;
  result.journey_export = fs::exists(dir + "journey.json");
  RunConfig config;
  fs::path folder = fs::absolute(hf_dir).lexically_normal();
  if (folder.filename().empty()) folder = folder.parent_path();  // "dir/"
  std::string cell_id = folder.filename().string();
  std::string run_id = random_run_id();
  std::string stored_tokenizer_hash;
  if (result.journey_export) {
    if (!config_path.empty()) {
      throw UsageError(hf_dir + " holds journey.json, whose stored config is used exactly; " +
                       "--config is only for folders without one");
    }
    const json provenance = read_json(dir + "journey.json");
    if (provenance.value("format", "") != "hf") {
      throw DataError(dir + "journey.json is not from a Hugging Face export (format " +
                      provenance.value("format", "none") +
                      "); only `journey export --format hf` folders are imported");
    }
    try {
      config = parse_config_text(provenance.at("config").get<std::string>(),
                                 "the config in " + dir + "journey.json");
      result.step = provenance.at("step").get<int64_t>();
      cell_id = provenance.at("cell_id").get<std::string>();
      const std::string stored_run = provenance.value("run_id", "");
      if (!stored_run.empty()) run_id = stored_run;
      stored_tokenizer_hash = provenance.value("tokenizer_hash", "");
    } catch (const json::exception& e) {
      throw DataError(dir + "journey.json lacks a field `journey export` writes: " + e.what());
    }
    if (result.step < 0) throw DataError(dir + "journey.json: step is negative");
  } else {
    const RunConfig base = config_path.empty() ? RunConfig{} : parse_config(config_path, {});
    config = config_from_llama(read_json(dir + "config.json"), dir + "config.json", base);
  }
  validate(config);

  const std::string tokenizer_path = dir + "tokenizer.model";
  if (!fs::exists(tokenizer_path)) {
    throw UsageError(hf_dir + " has no tokenizer.model (the SentencePiece model): a checkpoint " +
                     "without its tokenizer cannot be evaluated, so it is not imported");
  }
  const std::string tokenizer = read_whole(tokenizer_path);
  const std::string tokenizer_hash = sha256_hex(tokenizer);
  if (!stored_tokenizer_hash.empty() && stored_tokenizer_hash != tokenizer_hash) {
    throw DataError(tokenizer_path + " has SHA-256 " + tokenizer_hash + " but journey.json " +
                    "records the tokenizer " + stored_tokenizer_hash);
  }

  // Where the checkpoint goes; never over an existing file.
  const bool file_out = fs::path(out).extension() == ".h5";
  result.checkpoint =
      file_out ? out : checkpoint_path((fs::path(out) / "checkpoints").string(), result.step);
  if (fs::exists(result.checkpoint, ec) || fs::is_symlink(result.checkpoint, ec)) {
    throw UsageError(result.checkpoint + " exists; journey import never overwrites a file");
  }
  if (!file_out) {
    // `journey train --out` resumes from the newest checkpoint, which must be this one.
    const std::vector<CheckpointEntry> present =
        list_checkpoints(fs::path(result.checkpoint).parent_path().string());
    if (!present.empty()) {
      throw UsageError("--out " + out + " already holds checkpoints (" + present.back().path +
                       "), which `journey train --out` would resume from instead; import into "
                       "a new directory");
    }
  }

  const ModelSpec spec = make_model_spec(config.model, config.data.vocab_size);
  const SafetensorsReader weights = SafetensorsReader::open(dir + "model.safetensors");
  std::optional<SafetensorsReader> masks;
  if (fs::exists(dir + "masks.safetensors")) {
    masks = SafetensorsReader::open(dir + "masks.safetensors");
  }
  // Every tensor of the file must be one of the model's (a bias would otherwise be dropped).
  std::set<std::string> expected;
  for (const ParamSpec& p : spec.params) expected.insert(hf_name(p.name));
  for (const std::string& name : weights.names()) {
    if (!expected.count(name)) {
      throw UsageError("safetensors file " + weights.path() + ": tensor " + name +
                       " is not a parameter of Journey's Llama with this config");
    }
  }

  const float query_scale =
      static_cast<float>(std::sqrt(static_cast<double>(config.model.head_dim())));
  fs::create_directories(fs::path(result.checkpoint).parent_path(), ec);
  CheckpointWriter writer(result.checkpoint);
  int64_t prunable = 0, kept = 0;
  for (const ParamSpec& p : spec.params) {
    const std::string name = hf_name(p.name);
    const SafetensorsReader::Tensor& t = weights.tensor(name);
    if (t.shape != p.shape) {
      throw DataError("safetensors file " + weights.path() + ": tensor " + name + " has shape " +
                      shape_text(t.shape) + ", the config gives " + shape_text(p.shape));
    }
    std::vector<float> w = weights.read_f32(name);
    const bool query = p.name.size() > 3 && p.name.compare(p.name.size() - 3, 3, ".wq") == 0;
    if (query) {
      for (float& x : w) x = unscale(x, query_scale);
    }
    writer.write_tensor(std::string(checkpoint::kParams) + "/" + p.name, DType::kFloat32, p.shape,
                        w.data());
    const std::vector<float> zeros(w.size(), 0.0f);
    writer.write_tensor(std::string(checkpoint::kExpAvg) + "/" + p.name, DType::kFloat32, p.shape,
                        zeros.data());
    writer.write_tensor(std::string(checkpoint::kExpAvgSq) + "/" + p.name, DType::kFloat32, p.shape,
                        zeros.data());
    ++result.tensors;
    if (!p.prunable) continue;
    std::vector<uint8_t> mask(w.size(), 1);
    if (masks && masks->contains(name + ".indptr")) {
      mask = read_csr_mask(*masks, name, p.shape[0], p.shape[1]);
      ++result.masks_from_file;
    } else if (masks) {
      throw DataError("safetensors file " + masks->path() + " has no mask for " + name);
    }
    int64_t alive = 0, pruned_nonzero = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      alive += mask[i];
      if (!mask[i] && w[i] != 0.0f) ++pruned_nonzero;
    }
    if (pruned_nonzero > 0) {
      throw DataError("safetensors file " + weights.path() + ": tensor " + name + " has " +
                      std::to_string(pruned_nonzero) + " nonzero weights where " + masks->path() +
                      " prunes them");
    }
    prunable += p.numel();
    kept += alive;
    writer.write_tensor(std::string(checkpoint::kMasks) + "/" + p.name, DType::kUInt8, p.shape,
                        mask.data());
  }
  result.sparsity = prunable > 0 ? 1.0 - static_cast<double>(kept) / prunable : 0.0;

  writer.set_attr(checkpoint::kStepAttr, result.step);
  writer.set_attr(checkpoint::kTokensSeenAttr, result.step * config.train.batch_tokens);
  writer.set_attr(checkpoint::kAdamStepsAttr, int64_t{0});
  writer.set_attr(checkpoint::kCellIdAttr, cell_id);
  writer.set_attr(checkpoint::kRunIdAttr, run_id);
  writer.set_attr(checkpoint::kTokenizerHashAttr, tokenizer_hash);
  writer.set_attr(checkpoint::kConfigAttr, to_ini(config));
  writer.set_attr(checkpoint::kWrittenByRanksAttr, int64_t{1});
  writer.set_attr("keep", prunable > 0 ? static_cast<double>(kept) / prunable : 1.0);
  writer.set_attr("prunable_params", spec.prunable_count());
  writer.set_attr("imported_from", folder.filename().string());
  writer.write_blob(checkpoint::kTokenizerModelBlob,
                    std::vector<uint8_t>(tokenizer.begin(), tokenizer.end()));
  MetricsHistory{}.save(writer);
  writer.commit();
  return result;
}

}  // namespace journey
