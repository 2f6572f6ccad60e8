#include "prepare/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "common/error.h"

namespace journey {
namespace {

constexpr int kTrainerThreads = 2;

class VectorIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(const std::vector<std::string>& sentences) : sentences_(sentences) {}
  bool done() const override { return index_ >= sentences_.size(); }
  void Next() override { ++index_; }
  const std::string& value() const override { return sentences_[index_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& sentences_;
  size_t index_ = 0;
};

}  // namespace

std::string Tokenizer::train(const std::vector<std::string>& sentences, int64_t vocab_size) {
  const std::unordered_map<std::string, std::string> options = {
      {"model_type", "bpe"},
      {"vocab_size", std::to_string(vocab_size)},
      {"byte_fallback", "true"},
      // Lossless: keep the text exactly as it is, spaces and all.
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      // Training sentences are lines, and inside a document a line's first word follows a
      // newline, not a space: no dummy space keeps both views of a word the same.
      {"add_dummy_prefix", "false"},
      {"split_digits", "true"},
      // The model records its training settings, so the thread count is fixed rather than
      // the machine's: the same sample gives the same bytes (and SHA-256) everywhere.
      {"num_threads", std::to_string(kTrainerThreads)},
      {"minloglevel", "1"},
  };
  VectorIterator iterator(sentences);
  std::string model;
  const auto status = sentencepiece::SentencePieceTrainer::Train(options, &iterator, &model);
  if (!status.ok()) {
    throw DataError(
        "SentencePiece could not train a tokenizer of " + std::to_string(vocab_size) +
        " pieces on " + std::to_string(sentences.size()) +
        " sample sentences: " + status.ToString() +
        " (data.vocab_size must hold 259 special and byte pieces plus the text's common "
        "characters, and a small corpus supports only a small vocabulary; Journey's smallest "
        "is 320, so where SentencePiece's limit is below that, the corpus needs more text)");
  }
  return model;
}

Tokenizer::Tokenizer(std::unique_ptr<sentencepiece::SentencePieceProcessor> processor)
    : processor_(std::move(processor)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::load(const std::string& path) {
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = processor->Load(path);
  if (!status.ok()) {
    throw DataError("tokenizer model " + path + " cannot be loaded: " + status.ToString());
  }
  return Tokenizer(std::move(processor));
}

Tokenizer Tokenizer::from_bytes(const std::string& model_bytes) {
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = processor->LoadFromSerializedProto(model_bytes);
  if (!status.ok()) {
    throw DataError("tokenizer model cannot be loaded from memory: " + status.ToString());
  }
  return Tokenizer(std::move(processor));
}

std::vector<int> Tokenizer::encode(std::string_view text, size_t chunk_bytes) const {
  std::vector<int> ids, chunk_ids;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.size();
    if (chunk_bytes > 0 && text.size() - pos > chunk_bytes) {
      // Cut before a space or after a newline: no piece spans either, so the ids are those of
      // one Encode call on the whole text.
      size_t cut = text.find_last_of(" \n", pos + chunk_bytes);
      if (cut == std::string_view::npos || cut <= pos) cut = text.find_first_of(" \n", pos + 1);
      if (cut != std::string_view::npos) end = text[cut] == '\n' ? cut + 1 : cut;
    }
    const auto status = processor_->Encode(text.substr(pos, end - pos), &chunk_ids);
    if (!status.ok()) throw DataError("tokenizer cannot encode text: " + status.ToString());
    ids.insert(ids.end(), chunk_ids.begin(), chunk_ids.end());
    pos = end;
  }
  return ids;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::string text;
  const auto status = processor_->Decode(ids, &text);
  if (!status.ok()) throw DataError("tokenizer cannot decode ids: " + status.ToString());
  return text;
}

int64_t Tokenizer::vocab_size() const {
  return processor_->GetPieceSize();
}
int Tokenizer::bos_id() const {
  return processor_->bos_id();
}
int Tokenizer::eos_id() const {
  return processor_->eos_id();
}

}  // namespace journey
