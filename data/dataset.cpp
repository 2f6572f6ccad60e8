#include "data/dataset.h"

#include <cstdio>
#include <filesystem>
#include <utility>

#include "common/error.h"
#include "data/batch_loader.h"
#include "io/sha256.h"

namespace fs = std::filesystem;

namespace journey {
namespace {

void require_count(const TokenShard& shard, const char* what, int64_t actual, int64_t expected,
                   const std::string& manifest_path) {
  if (actual != expected) {
    throw DataError("token shard " + shard.path() + " holds " + std::to_string(actual) + " " +
                    what + " but " + manifest_path + " records " + std::to_string(expected) +
                    " (the directory mixes files of different prepare runs)");
  }
}

}  // namespace

Dataset::Dataset(std::string dir, DatasetManifest manifest, std::string tokenizer_path,
                 TokenShard train, TokenShard val)
    : dir_(std::move(dir)),
      manifest_(std::move(manifest)),
      tokenizer_path_(std::move(tokenizer_path)),
      train_(std::move(train)),
      val_(std::move(val)) {}

Dataset Dataset::open(const std::string& dir) {
  if (!fs::is_directory(dir)) {
    throw DataError("dataset directory " + dir +
                    " does not exist (make it with `journey prepare --data.dir=" + dir + "`)");
  }
  const std::string manifest_path = (fs::path(dir) / kManifestFile).string();
  if (!fs::exists(manifest_path)) {
    throw DataError(dir + " is not a Journey dataset: it has no " + kManifestFile +
                    " (make one with `journey prepare --data.dir=" + dir + "`)");
  }
  DatasetManifest manifest = read_manifest(manifest_path);
  const std::string tokenizer_path = (fs::path(dir) / kTokenizerFile).string();
  const std::string hash = file_sha256_hex(tokenizer_path);
  if (hash != manifest.tokenizer_sha256) {
    throw DataError("tokenizer model " + tokenizer_path + " has SHA-256 " + hash + ", but " +
                    manifest_path + " records " + manifest.tokenizer_sha256 +
                    ": the tokenizer was changed after prepare, so the shards do not match it");
  }
  TokenShard train =
      TokenShard::open((fs::path(dir) / kTrainShardFile).string(), manifest.vocab_size);
  TokenShard val = TokenShard::open((fs::path(dir) / kValShardFile).string(), manifest.vocab_size);
  require_count(train, "tokens", train.size(), manifest.train_tokens, manifest_path);
  require_count(val, "tokens", val.size(), manifest.val_tokens, manifest_path);
  require_count(train, "documents", train.document_count(), manifest.train_documents,
                manifest_path);
  require_count(val, "documents", val.document_count(), manifest.val_documents, manifest_path);
  return Dataset(dir, std::move(manifest), tokenizer_path, std::move(train), std::move(val));
}

std::string Dataset::fingerprint() const {
  std::string text;
  for (const TokenShard* shard : {&train_, &val_}) {
    char crc[16];
    std::snprintf(crc, sizeof crc, "%08x", static_cast<unsigned>(shard->payload_crc32()));
    text += (text.empty() ? "" : "; ") + fs::path(shard->path()).filename().string() + ": " +
            std::to_string(shard->size()) + " tokens, " + std::to_string(shard->document_count()) +
            " documents, CRC-32 " + crc;
  }
  return text;
}

Dataset open_dataset(const DataConfig& data) {
  // A directory that is not there, or not a dataset, is a config value to fix (exit 2); a
  // dataset whose files are damaged is a DataError (exit 1).
  if (!fs::exists(fs::path(data.dir) / kManifestFile)) {
    throw UsageError("config key data.dir = " + data.dir + " is not a dataset: " +
                     (fs::is_directory(data.dir) ? "it has no " + std::string(kManifestFile)
                                                 : std::string("no such directory")) +
                     " (make one with `journey prepare --data.dir=" + data.dir + "`)");
  }
  Dataset dataset = Dataset::open(data.dir);
  if (dataset.vocab_size() != data.vocab_size) {
    throw UsageError("config key data.vocab_size = " + std::to_string(data.vocab_size) +
                     " does not match the dataset in " + data.dir + " (vocabulary " +
                     std::to_string(dataset.vocab_size()) + ")");
  }
  return dataset;
}

Dataset open_run_dataset(const RunConfig& config) {
  Dataset dataset = open_dataset(config.data);
  check_shards_fit(dataset.train(), dataset.val(), config.model.seq_len,
                   config.train.eval_sequences);
  return dataset;
}

}  // namespace journey
