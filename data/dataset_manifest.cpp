#include "data/dataset_manifest.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace journey {
namespace {

constexpr char kFormatName[] = "journey-dataset";

}  // namespace

std::string manifest_json(const DatasetManifest& m) {
  const nlohmann::ordered_json json = {
      {"format", kFormatName},
      {"version", DatasetManifest::kVersion},
      {"vocab_size", m.vocab_size},
      {"token_type", "uint16"},
      {"bos_id", m.bos_id},
      {"tokenizer_sha256", m.tokenizer_sha256},
      {"sources", m.sources},
      {"val_fraction", m.val_fraction},
      {"documents",
       {{"train", m.train_documents},
        {"validation", m.val_documents},
        {"moved", m.moved_documents}}},
      {"tokens", {{"train", m.train_tokens}, {"validation", m.val_tokens}}},
      {"text_bytes", m.text_bytes},
  };
  return json.dump(2) + "\n";
}

DatasetManifest read_manifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError("dataset manifest " + path + " cannot be read: " + std::strerror(errno));
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw DataError("dataset manifest " + path + " is not valid JSON: " + e.what());
  }
  if (!json.is_object() || json.value("format", "") != kFormatName) {
    throw DataError(path + " is not a Journey dataset manifest (its \"format\" is not \"" +
                    kFormatName + "\")");
  }
  DatasetManifest m;
  try {
    const int version = json.at("version").get<int>();
    if (version != DatasetManifest::kVersion) {
      throw DataError("dataset manifest " + path + " has version " + std::to_string(version) +
                      ", but this build reads version " +
                      std::to_string(DatasetManifest::kVersion) +
                      " only (prepare the dataset again)");
    }
    if (json.at("token_type").get<std::string>() != "uint16") {
      throw DataError("dataset manifest " + path + " has token type " +
                      json.at("token_type").dump() + "; only uint16 is supported");
    }
    m.vocab_size = json.at("vocab_size").get<int64_t>();
    m.bos_id = json.at("bos_id").get<int64_t>();
    m.tokenizer_sha256 = json.at("tokenizer_sha256").get<std::string>();
    m.sources = json.at("sources").get<std::string>();
    m.val_fraction = json.at("val_fraction").get<double>();
    m.train_documents = json.at("documents").at("train").get<int64_t>();
    m.val_documents = json.at("documents").at("validation").get<int64_t>();
    m.moved_documents = json.at("documents").at("moved").get<int64_t>();
    m.train_tokens = json.at("tokens").at("train").get<int64_t>();
    m.val_tokens = json.at("tokens").at("validation").get<int64_t>();
    m.text_bytes = json.at("text_bytes").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError("dataset manifest " + path + " is incomplete or malformed: " + e.what());
  }
  return m;
}

bool is_dataset_dir(const std::string& dir) {
  std::ifstream in(dir + "/" + kManifestFile);
  if (!in) return false;
  const nlohmann::json json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return json.is_object() && json.value("format", "") == kFormatName;
}

}  // namespace journey
