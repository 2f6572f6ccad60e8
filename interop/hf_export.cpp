#include "interop/hf_export.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/error.h"
#include "interop/safetensors_writer.h"
#include "io/atomic_file.h"
#include "io/checkpoint_file.h"
#include "schedules/model_spec.h"

namespace journey {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Journey's per-block names and Hugging Face's, after "model.layers.<i>.".
const std::pair<const char*, const char*> kBlockNames[] = {
    {"attn_norm", "input_layernorm.weight"}, {"wq", "self_attn.q_proj.weight"},
    {"wk", "self_attn.k_proj.weight"},       {"wv", "self_attn.v_proj.weight"},
    {"wo", "self_attn.o_proj.weight"},       {"mlp_norm", "post_attention_layernorm.weight"},
    {"w_gate", "mlp.gate_proj.weight"},      {"w_up", "mlp.up_proj.weight"},
    {"w_down", "mlp.down_proj.weight"},
};

// An output directory that exists must be empty: exports never overwrite.
void check_out_dir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      throw UsageError("--out " + dir + " exists and is not a directory");
    }
    if (!fs::is_empty(dir, ec)) {
      throw UsageError("--out " + dir +
                       " is not empty; an export never overwrites files: choose a new directory");
    }
  }
}

// The export is written into a hidden sibling of --out and renamed onto it when complete, so
// that --out holds a whole export or nothing: a failed or killed export leaves no partial
// folder (the sibling is removed on failure, and its name says what it is otherwise).
class StagingDir {
 public:
  explicit StagingDir(const std::string& out_dir) : out_(fs::absolute(out_dir)) {
    std::error_code ec;
    fs::create_directories(out_.parent_path(), ec);
    if (ec) throw DataError("cannot create " + out_.parent_path().string() + ": " + ec.message());
    path_ = out_.parent_path() /
            ("." + out_.filename().string() + ".partial-" + std::to_string(getpid()));
    fs::remove_all(path_, ec);
    fs::create_directory(path_, ec);
    if (ec) throw DataError("cannot create " + path_.string() + ": " + ec.message());
  }
  ~StagingDir() {
    std::error_code ec;
    if (!committed_) fs::remove_all(path_, ec);
  }
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;

  std::string path() const { return path_.string(); }
  // Renames the finished export onto --out (an empty directory there is replaced).
  void commit() {
    if (std::rename(path_.c_str(), out_.c_str()) != 0) {
      throw DataError("cannot move the export from " + path_.string() + " to " + out_.string() +
                      ": " + std::strerror(errno));
    }
    committed_ = true;
  }

 private:
  fs::path out_, path_;
  bool committed_ = false;
};

void write_json(const std::string& path, const json& value) {
  write_file_atomically(path, value.dump(2) + "\n");
}

// The Hugging Face config of the model, with the fields older transformers versions need.
json llama_config(const RunConfig& c) {
  const ModelConfig& m = c.model;
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"hidden_size", m.d_model},
          {"intermediate_size", m.ffn()},
          {"num_hidden_layers", m.n_layers},
          {"num_attention_heads", m.n_heads},
          {"num_key_value_heads", m.n_heads},
          {"head_dim", m.head_dim()},
          {"hidden_act", "silu"},
          {"rms_norm_eps", m.norm_eps},
          {"rope_theta", m.rope_base},
          {"rope_scaling", nullptr},
          {"max_position_embeddings", m.seq_len},
          {"vocab_size", c.data.vocab_size},
          {"tie_word_embeddings", false},
          {"attention_bias", false},
          {"mlp_bias", false},
          {"attention_dropout", 0.0},
          {"initializer_range", 0.02},
          {"pretraining_tp", 1},
          {"use_cache", true},
          {"bos_token_id", 1},
          {"eos_token_id", 2},
          {"pad_token_id", nullptr},
          {"torch_dtype", "float32"}};
}

void write_tokenizer_files(const CheckpointReader& reader, const RunConfig& c,
                           const std::string& dir) {
  if (!reader.contains(checkpoint::kTokenizerModelBlob)) {
    throw DataError("checkpoint " + reader.path() + " holds no tokenizer (" +
                    checkpoint::kTokenizerModelBlob + ")");
  }
  const std::vector<uint8_t> model = reader.read_blob(checkpoint::kTokenizerModelBlob);
  write_file_atomically(
      dir + "/tokenizer.model",
      std::string_view(reinterpret_cast<const char*>(model.data()), model.size()));
  // legacy: the SentencePiece model's own settings (no dummy prefix) apply unchanged;
  // add_prefix_space false keeps the first token's leading space on decode.
  write_json(dir + "/tokenizer_config.json", {{"tokenizer_class", "LlamaTokenizer"},
                                              {"add_bos_token", true},
                                              {"add_eos_token", false},
                                              {"bos_token", "<s>"},
                                              {"eos_token", "</s>"},
                                              {"unk_token", "<unk>"},
                                              {"pad_token", nullptr},
                                              {"legacy", true},
                                              {"add_prefix_space", false},
                                              {"clean_up_tokenization_spaces", false},
                                              {"model_max_length", c.model.seq_len},
                                              {"sp_model_kwargs", json::object()}});
  write_json(dir + "/special_tokens_map.json",
             {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}});
  write_json(dir + "/generation_config.json", {{"bos_token_id", 1}, {"eos_token_id", 2}});
}

// A mask as CSR: the kept columns of each row.
void add_csr(SafetensorsWriter& out, const std::string& name, const std::vector<uint8_t>& mask,
             int64_t rows, int64_t cols) {
  std::vector<int64_t> indptr{0};
  std::vector<int32_t> indices;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t col = 0; col < cols; ++col) {
      if (mask[static_cast<size_t>(r * cols + col)]) indices.push_back(static_cast<int32_t>(col));
    }
    indptr.push_back(static_cast<int64_t>(indices.size()));
  }
  out.add_i64(name + ".indptr", indptr);
  out.add_i32(name + ".indices", indices);
  out.set_metadata(name + ".shape", std::to_string(rows) + "," + std::to_string(cols));
}

}  // namespace

std::string hf_name(const std::string& name) {
  if (name == "embed") return "model.embed_tokens.weight";
  if (name == "final_norm") return "model.norm.weight";
  if (name == "head") return "lm_head.weight";
  const std::string prefix = "layers.";
  if (name.rfind(prefix, 0) == 0) {
    const size_t dot = name.find('.', prefix.size());
    if (dot != std::string::npos) {
      const std::string layer = name.substr(prefix.size(), dot - prefix.size());
      const std::string rest = name.substr(dot + 1);
      for (const auto& [ours, theirs] : kBlockNames) {
        if (rest == ours) return "model.layers." + layer + "." + theirs;
      }
    }
  }
  throw DataError("parameter '" + name + "' has no Hugging Face Llama name");
}

ExportResult export_checkpoint(const std::string& checkpoint, const std::string& out_dir,
                               ExportFormat format) {
  const CheckpointReader reader = CheckpointReader::open(checkpoint);
  const std::vector<CheckpointProblem> problems = reader.verify();
  if (!problems.empty()) {
    throw DataError("checkpoint " + checkpoint + " is not valid, so it is not exported: " +
                    problems.front().dataset + ": " + problems.front().error +
                    (problems.size() > 1 ? " (and " + std::to_string(problems.size() - 1) +
                                               " more; journey inspect lists them)"
                                         : ""));
  }
  const std::string config_ini = reader.attr_string(checkpoint::kConfigAttr);
  const RunConfig config = parse_config_text(config_ini, "the config stored in " + checkpoint);
  const ModelSpec spec = make_model_spec(config.model, config.data.vocab_size);
  if (format == ExportFormat::kHuggingFace && config.model.family != ModelFamily::kLlama) {
    throw UsageError("checkpoint " + checkpoint +
                     " holds a model.family = " + family_name(config.model.family) +
                     " model, which a Hugging Face Llama folder cannot express; use --format "
                     "safetensors");
  }
  check_out_dir(out_dir);
  StagingDir staging(out_dir);
  const std::string dir = staging.path();

  ExportResult result;
  result.step = reader.attr_int(checkpoint::kStepAttr);
  const bool hf = format == ExportFormat::kHuggingFace;
  // HF divides logits by sqrt(d_head); Journey's wq was initialised that much smaller instead.
  const float query_scale =
      static_cast<float>(std::sqrt(static_cast<double>(config.model.head_dim())));
  SafetensorsWriter weights, masks;
  json sparsity = json::object();
  int64_t prunable = 0, kept = 0;
  for (const ParamSpec& p : spec.params) {
    const std::string tensor = std::string(checkpoint::kParams) + "/" + p.name;
    const TensorInfo info = reader.info(tensor);
    if (info.shape != p.shape || info.dtype != DType::kFloat32) {
      throw DataError("checkpoint " + checkpoint + ": " + tensor +
                      " does not have the shape its stored config gives it");
    }
    std::vector<float> w(static_cast<size_t>(p.numel()));
    reader.read_tensor(tensor, w.data());
    if (p.prunable) {
      std::vector<uint8_t> mask(w.size());
      reader.read_tensor(std::string(checkpoint::kMasks) + "/" + p.name, mask.data());
      int64_t alive = 0;
      for (size_t i = 0; i < w.size(); ++i) {
        if (!mask[i]) w[i] = 0.0f;
        alive += mask[i];
      }
      prunable += p.numel();
      kept += alive;
      sparsity[p.name] = 1.0 - static_cast<double>(alive) / p.numel();
      if (hf) {
        add_csr(masks, hf_name(p.name), mask, p.shape[0], p.shape[1]);
        ++result.masks;
      }
    }
    const bool query = p.name.size() > 3 && p.name.compare(p.name.size() - 3, 3, ".wq") == 0;
    if (hf && query) {
      for (float& x : w) x *= query_scale;
    }
    weights.add_f32(hf ? hf_name(p.name) : p.name, p.shape, w);
    ++result.tensors;
  }
  result.sparsity = prunable > 0 ? 1.0 - static_cast<double>(kept) / prunable : 0.0;
  weights.set_metadata("format", "pt");  // transformers before 4.48 requires it.
  if (!hf) weights.set_metadata("journey_config", config_ini);
  weights.write(dir + "/model.safetensors");
  if (hf) {
    masks.set_metadata("format", "csr");
    masks.write(dir + "/masks.safetensors");
    write_json(dir + "/config.json", llama_config(config));
    write_tokenizer_files(reader, config, dir);
  } else {
    // The config that rebuilds the model (and the run) beside the tensors, for tools that do
    // not read safetensors metadata.
    write_file_atomically(dir + "/config.ini", config_ini);
  }
  // The checkpoint's file name, not its path: an export travels, and a local path would
  // carry the user's directory layout with it.
  json provenance = {{"format", hf ? "hf" : "safetensors"},
                     {"exported_from", fs::path(checkpoint).filename().string()},
                     {"step", result.step},
                     {"cell_id", reader.attr_string(checkpoint::kCellIdAttr)},
                     {"run_id", reader.has_attr(checkpoint::kRunIdAttr)
                                    ? reader.attr_string(checkpoint::kRunIdAttr)
                                    : std::string()},
                     {"tokenizer_hash", reader.attr_string(checkpoint::kTokenizerHashAttr)},
                     {"sparsity", result.sparsity},
                     {"sparsity_per_matrix", sparsity},
                     {"config", config_ini}};
  if (hf) provenance["query_scale_folded_into_q_proj"] = query_scale;
  write_json(dir + "/journey.json", provenance);
  staging.commit();
  return result;
}

}  // namespace journey
