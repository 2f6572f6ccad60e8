// `journey prepare`'s work: sources -> documents -> tokenizer -> split -> shards, as one
// atomic step that produces a dataset directory (data/dataset_manifest.h lists its files).
//
//   1. Read every document once: name, size, split hash; sample training sentences from the
//      documents the hash puts in training (lines with the smallest hashes of their text, up
//      to kTokenizerSampleBytes, so the sample does not depend on document order), or from
//      all documents if the hash puts none in training.
//   2. Train the tokenizer on the sample (BPE, data.vocab_size pieces), or take the given
//      SentencePiece model as it is (`--tokenizer`, e.g. LLaMA-2's, as the paper did; its
//      pieces must number data.vocab_size and fit uint16 shards, and it needs a BOS id).
//   3. Read the documents again and encode them on all cores, each as BOS + its tokens.
//   4. Split by data/split.h using the token counts; write both shards, documents.tsv and
//      manifest.json.
// Everything is written into the sibling directory "<dir>.partial" and renamed to <dir> at
// the end, so an interrupted prepare leaves no half-made dataset (the next run removes the
// leftover .partial). An existing non-empty <dir> is replaced only with `force`, and only if
// it is a Journey dataset (or empty): other directories are never deleted.
// Errors: UsageError for bad options or a target that may not be replaced; DataError for
// unreadable, empty or malformed input and for corpora too small to split or train on.
#pragma once

#include <cstdint>
#include <string>

namespace journey {

// Training sentences sampled for the tokenizer: SentencePiece trains at about 3 MB/s on one
// core here, so this keeps training to a few seconds.
constexpr size_t kTokenizerSampleBytes = 8 << 20;

struct PrepareOptions {
  std::string dataset_dir;      // data.dir
  std::string sources;          // data.sources
  std::string corpus_dir;       // Where scripts/fetch-corpus.sh unpacked the default corpus.
  int64_t vocab_size = 0;       // data.vocab_size
  std::string tokenizer_model;  // A SentencePiece .model to use instead of training one.
  double val_fraction = 0;      // data.val_fraction
  bool force = false;
  int threads = 0;  // 0: all cores.
};

struct PrepareReport {
  int64_t train_documents = 0;
  int64_t val_documents = 0;
  int64_t moved_documents = 0;
  int64_t train_tokens = 0;  // Shard tokens, one BOS per document included.
  int64_t val_tokens = 0;
  int64_t text_bytes = 0;
  // Text bytes per token of text (BOS separators not counted): the tokenizer's compression.
  double bytes_per_token = 0;
  int64_t sample_bytes = 0;  // Of the tokenizer's training sample.
  std::string tokenizer_sha256;
  double read_seconds = 0, train_seconds = 0, encode_seconds = 0, total_seconds = 0;
};

PrepareReport prepare_dataset(const PrepareOptions& options);

}  // namespace journey
