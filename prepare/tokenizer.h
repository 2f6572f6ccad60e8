// The tokenizer: a SentencePiece BPE model (Debian's libsentencepiece), trained by
// `journey prepare` and stored as tokenizer.model in the dataset directory.
//
// The model is lossless: identity normalization, no whitespace clean-up, no dummy prefix and
// byte fallback, so decode(encode(text)) == text for any UTF-8 text, newlines included (a
// newline becomes the byte piece <0x0A>, since training sentences are single lines).
// Special ids: <unk> 0, <s> (BOS) 1, </s> (EOS) 2; ids 3..258 are the 256 byte pieces.
// Training is deterministic: the same sentences and settings give a byte-identical model.
// Errors (an unreadable or foreign model, training that fails) are DataErrors.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace journey {

class Tokenizer {
 public:
  // Trains a model of exactly `vocab_size` pieces on `sentences` (each one line, under
  // SentencePiece's 4192-byte limit; see split_for_training) and returns its serialized
  // form, the bytes of a tokenizer.model file.
  static std::string train(const std::vector<std::string>& sentences, int64_t vocab_size);

  // Loads tokenizer.model from `path`, or from serialized bytes as train() returns them.
  static Tokenizer load(const std::string& path);
  static Tokenizer from_bytes(const std::string& model_bytes);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // SentencePiece's BPE encoder slows down on long inputs (about 1 MB/s on a whole book
  // against 3 MB/s on ~1 KB pieces), so encode() feeds it pieces of about this size.
  static constexpr size_t kEncodeChunkBytes = 1024;

  // The ids of SentencePiece's Encode of the whole text, computed on pieces of about
  // `chunk_bytes` cut before spaces and after newlines (no piece of the model spans those,
  // so the ids are the same); 0 encodes in one call. Thread-safe.
  std::vector<int> encode(std::string_view text, size_t chunk_bytes = kEncodeChunkBytes) const;
  std::string decode(const std::vector<int>& ids) const;

  int64_t vocab_size() const;
  int bos_id() const;
  int eos_id() const;

 private:
  explicit Tokenizer(std::unique_ptr<sentencepiece::SentencePieceProcessor> processor);
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

}  // namespace journey
