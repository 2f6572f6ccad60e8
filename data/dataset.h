// A prepared dataset, opened for training: the train and validation token shards (memory
// mapped), the tokenizer model and its identity. Torch-free.
//
// Dataset::open checks the whole directory before anything trains on it: the manifest
// (format, version), that tokenizer.model still has the SHA-256 the manifest recorded, that
// both shards verify (io/token_shard.h) with the manifest's vocabulary and that their token
// and document counts match the manifest. A missing directory, a directory that is not a
// Journey dataset, or any mismatch is a DataError that names the path and what is wrong.
// A Dataset may be moved, but loaders keep references to its shards: make them once the
// Dataset has its final place.
//
// open_dataset() opens the dataset a run config names, as every command that trains or
// plans training does, and also checks it against the config's vocabulary.
#pragma once

#include <cstdint>
#include <string>

#include "common/config.h"
#include "data/dataset_manifest.h"
#include "io/token_shard.h"

namespace journey {

class Dataset {
 public:
  static Dataset open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const TokenShard& train() const { return train_; }
  const TokenShard& val() const { return val_; }
  int64_t vocab_size() const { return manifest_.vocab_size; }
  int64_t bos_id() const { return manifest_.bos_id; }
  const std::string& tokenizer_model_path() const { return tokenizer_path_; }
  // SHA-256 (hex) of tokenizer.model; checkpoints record it to detect a changed tokenizer.
  const std::string& tokenizer_hash() const { return manifest_.tokenizer_sha256; }
  int64_t train_tokens() const { return train_.size(); }
  int64_t val_tokens() const { return val_.size(); }
  int64_t train_documents() const { return train_.document_count(); }
  int64_t val_documents() const { return val_.document_count(); }
  const DatasetManifest& manifest() const { return manifest_; }
  // What the data is, wherever it lies: each shard's token and document counts and payload
  // CRC-32, as one line ("train.tokens: 1234 tokens, 5 documents, CRC-32 0a1b2c3d; val.tokens:
  // ..."). A sweep's identity and each checkpoint record it, so a run never continues on
  // other data; the same data prepared again, or moved, has the same fingerprint.
  std::string fingerprint() const;

 private:
  Dataset(std::string dir, DatasetManifest manifest, std::string tokenizer_path, TokenShard train,
          TokenShard val);

  std::string dir_;
  DatasetManifest manifest_;
  std::string tokenizer_path_;
  TokenShard train_;
  TokenShard val_;
};

// Dataset::open(data.dir), with a UsageError naming data.dir when it is no dataset directory
// (missing, or without manifest.json) and one naming data.vocab_size when the dataset's
// vocabulary is not data.vocab_size (the model would be built for the wrong vocabulary): bad
// config values, exit 2. A damaged dataset stays a DataError.
Dataset open_dataset(const DataConfig& data);

// open_dataset(config.data), checked to serve the config's windows (check_shards_fit in
// data/batch_loader.h: one training sequence, train.eval_sequences validation ones): what a
// launch checks before it starts anything. A shortfall is a UsageError naming the key.
Dataset open_run_dataset(const RunConfig& config);

}  // namespace journey
