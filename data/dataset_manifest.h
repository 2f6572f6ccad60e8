// manifest.json: what a dataset directory holds and how it was made. `journey prepare`
// writes it last (before the directory is renamed into place); Dataset::open reads it first.
//
// The file names inside a dataset directory are fixed (docs/data-format.md):
//   manifest.json  this record          tokenizer.model  the SentencePiece model
//   train.tokens   training shard       val.tokens       validation shard
//   documents.tsv  name, split, bytes and tokens of every document
// read_manifest throws DataError when the file is missing, is not JSON, belongs to another
// format or version, or lacks a field.
#pragma once

#include <cstdint>
#include <string>

namespace journey {

inline constexpr char kManifestFile[] = "manifest.json";
inline constexpr char kTokenizerFile[] = "tokenizer.model";
inline constexpr char kTrainShardFile[] = "train.tokens";
inline constexpr char kValShardFile[] = "val.tokens";
inline constexpr char kDocumentsFile[] = "documents.tsv";

struct DatasetManifest {
  static constexpr int kVersion = 1;

  int64_t vocab_size = 0;
  int64_t bos_id = 0;            // Separates documents in the token streams.
  std::string tokenizer_sha256;  // Of tokenizer.model's bytes, lowercase hex.
  std::string sources;           // data.sources as given to prepare.
  double val_fraction = 0;
  int64_t train_documents = 0;
  int64_t val_documents = 0;
  int64_t moved_documents = 0;  // Put into validation (or back) by the split's fix-up rules.
  int64_t train_tokens = 0;
  int64_t val_tokens = 0;
  int64_t text_bytes = 0;  // UTF-8 bytes of all documents after clean-up.
};

// The manifest as JSON text (the whole file).
std::string manifest_json(const DatasetManifest& manifest);
DatasetManifest read_manifest(const std::string& path);

// Whether `dir` holds a manifest.json of this format (any version): prepare --force replaces
// such a directory, and no other non-empty one.
bool is_dataset_dir(const std::string& dir);

}  // namespace journey
