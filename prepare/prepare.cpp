#include "prepare/prepare.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "data/dataset_manifest.h"
#include "data/split.h"
#include "data/window_permutation.h"
#include "io/sha256.h"
#include "io/token_shard.h"
#include "prepare/corpus.h"
#include "prepare/text.h"
#include "prepare/tokenizer.h"

namespace fs = std::filesystem;

namespace journey {
namespace {

// Marks a directory as prepare's own work in progress, which a later run may delete.
constexpr char kPartialMarker[] = ".journey-prepare-partial";
// Every document of the corpus, in reading order, encoded before the split is known.
constexpr char kAllTokensFile[] = "all.tokens.tmp";
// Documents are encoded in batches of about this much text, all cores at once.
constexpr size_t kEncodeBatchBytes = 16 << 20;

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string megabytes(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
  return text;
}

// FNV-1a, finished by mix64: a stable hash of a training line, independent of the platform.
uint64_t line_hash(std::string_view line) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : line) h = (h ^ c) * 0x100000001b3ULL;
  return mix64(h);
}

// Keeps the lines with the smallest hashes whose total size fits the budget, in O(budget)
// memory, whatever order the lines come in.
class LineSample {
 public:
  explicit LineSample(size_t budget) : budget_(budget) {}

  void add(std::string_view line) {
    const uint64_t h = line_hash(line);
    if (h >= threshold_) return;
    lines_.emplace_back(h, std::string(line));
    bytes_ += line.size();
    if (bytes_ > 2 * budget_) shrink();
  }

  // The sample, sorted by hash (a fixed order for the trainer).
  std::vector<std::string> take() {
    shrink();
    std::vector<std::string> sentences;
    sentences.reserve(lines_.size());
    for (auto& line : lines_) sentences.push_back(std::move(line.second));
    return sentences;
  }
  size_t bytes() const { return bytes_; }

 private:
  void shrink() {
    std::sort(lines_.begin(), lines_.end());
    size_t kept = 0, bytes = 0;
    while (kept < lines_.size() && bytes + lines_[kept].second.size() <= budget_) {
      bytes += lines_[kept++].second.size();
    }
    if (kept < lines_.size()) {
      threshold_ = lines_[kept].first;
      // Lines sharing the first dropped hash go too, so the rule stays "hash below threshold".
      while (kept > 0 && lines_[kept - 1].first == threshold_)
        bytes -= lines_[--kept].second.size();
      lines_.resize(kept);
    }
    bytes_ = bytes;
  }

  size_t budget_;
  uint64_t threshold_ = std::numeric_limits<uint64_t>::max();
  std::vector<std::pair<uint64_t, std::string>> lines_;
  size_t bytes_ = 0;
};

// Writes `bytes` to `path` and fsyncs it.
void write_durably(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw DataError("cannot create " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      throw DataError("cannot write " + path + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || ::close(fd) != 0) {
    throw DataError("cannot write " + path + ": " + std::strerror(errno));
  }
}

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    ::close(fd);
  }
}

// The dataset path without trailing separators, so "<dir>.partial" is its sibling.
fs::path normalized_target(const std::string& dir) {
  fs::path path = fs::path(dir).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();
  return path;
}

bool is_empty_dir(const fs::path& dir) {
  return fs::is_empty(dir);
}

// Refuses early when the target may not be replaced; see prepare.h.
void check_target(const fs::path& target, bool force) {
  if (!fs::exists(target)) return;
  if (!fs::is_directory(target)) {
    throw UsageError("data.dir " + target.string() + " exists and is not a directory");
  }
  if (is_empty_dir(target)) return;
  if (!is_dataset_dir(target.string())) {
    throw UsageError("data.dir " + target.string() +
                     " holds files but is not a Journey dataset; prepare never replaces such a "
                     "directory (choose another data.dir)");
  }
  if (!force) {
    throw UsageError("data.dir " + target.string() +
                     " already holds a dataset; pass --force to replace it");
  }
}

// Creates the empty work directory, removing a leftover of an interrupted run.
void make_partial_dir(const fs::path& partial) {
  if (fs::exists(partial)) {
    if (!fs::exists(partial / kPartialMarker)) {
      throw DataError(partial.string() +
                      " exists but was not made by `journey prepare`; move it away first");
    }
    log::info("prepare: removing " + partial.string() + ", left by an interrupted run");
    fs::remove_all(partial);
  }
  fs::create_directories(partial);
  write_durably((partial / kPartialMarker).string(), "");
}

// Moves the finished work directory into place in one rename; an old dataset there is
// swapped out atomically and deleted only then.
void commit(const fs::path& partial, const fs::path& target) {
  fsync_dir(partial);
  const bool replacing = fs::exists(target) && !is_empty_dir(target);
  if (replacing) {
    if (renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
      throw DataError("cannot replace " + target.string() + " with " + partial.string() + ": " +
                      std::strerror(errno));
    }
  } else {
    fs::rename(partial, target);  // rename(2) replaces an empty directory.
  }
  fs::remove(target / kPartialMarker);
  fsync_dir(target.has_parent_path() ? target.parent_path() : fs::path("."));
  if (replacing) fs::remove_all(partial);  // The old dataset.
}

struct DocumentInfo {
  std::string name;
  int64_t bytes = 0;
  double u = 0;
  int64_t tokens = 0;  // Filled by the encoding pass; BOS included.
};

// Encodes `batch` on `threads` threads and appends each document, as BOS + tokens, to `out`.
void encode_batch(const Tokenizer& tokenizer, int threads, std::vector<Document>& batch,
                  std::vector<DocumentInfo>& info, size_t first_index, TokenShardWriter& out) {
  std::vector<std::vector<int>> encoded(batch.size());
  std::atomic<size_t> next{0};
  std::vector<std::exception_ptr> errors(threads);
  auto work = [&](int worker) {
    try {
      for (size_t i; (i = next++) < batch.size();) encoded[i] = tokenizer.encode(batch[i].text);
    } catch (...) {
      errors[worker] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& t : pool) t.join();
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  const auto bos = static_cast<uint16_t>(tokenizer.bos_id());
  std::vector<uint16_t> ids;
  for (size_t i = 0; i < batch.size(); ++i) {
    ids.assign(1, bos);
    for (int id : encoded[i]) ids.push_back(static_cast<uint16_t>(id));
    out.add_document(ids);
    info[first_index + i].tokens = static_cast<int64_t>(ids.size());
  }
}

std::string documents_table(const std::vector<DocumentInfo>& info,
                            const std::vector<SplitDecision>& split) {
  std::string table = "name\tsplit\tmoved\tbytes\ttokens\n";
  for (size_t i = 0; i < info.size(); ++i) {
    std::string name = info[i].name;
    std::replace(name.begin(), name.end(), '\t', ' ');
    std::replace(name.begin(), name.end(), '\n', ' ');
    table += name + (split[i].validation ? "\tvalidation\t" : "\ttrain\t") +
             (split[i].moved ? "1\t" : "0\t") + std::to_string(info[i].bytes) + "\t" +
             std::to_string(info[i].tokens) + "\n";
  }
  return table;
}

// The bytes of the SentencePiece model at `path`, checked for what a dataset needs.
std::string given_tokenizer(const std::string& path, int64_t vocab_size) {
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path)) {
    throw UsageError("--tokenizer " + path + " cannot be read (expected a SentencePiece .model)");
  }
  const std::string model((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Tokenizer tokenizer = [&] {
    try {
      return Tokenizer::from_bytes(model);
    } catch (const DataError& e) {
      throw DataError("--tokenizer " + path + " is not a SentencePiece model (" + e.what() + ")");
    }
  }();
  if (tokenizer.vocab_size() != vocab_size) {
    throw UsageError("--tokenizer " + path + " has " + std::to_string(tokenizer.vocab_size()) +
                     " pieces, but config key data.vocab_size = " + std::to_string(vocab_size) +
                     "; set --data.vocab_size=" + std::to_string(tokenizer.vocab_size()));
  }
  if (tokenizer.bos_id() < 0) {
    throw DataError("--tokenizer " + path +
                    " has no BOS piece; Journey separates documents with BOS");
  }
  return model;
}

// Steps 1 to 4 of prepare.h into `partial`, then the commit to `target`.
PrepareReport build(const PrepareOptions& options, const Corpus& corpus, const fs::path& partial,
                    const fs::path& target) {
  const auto start = Clock::now();
  PrepareReport report;
  const int threads = options.threads > 0
                          ? options.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // 1. Names, sizes and split hashes; the tokenizer's sample from the training side.
  std::vector<DocumentInfo> info;
  LineSample sample(kTokenizerSampleBytes);
  corpus.for_each_document([&](Document&& doc) {
    DocumentInfo d;
    d.name = std::move(doc.name);
    d.bytes = static_cast<int64_t>(doc.text.size());
    d.u = split_hash_unit(d.name);
    if (d.u >= options.val_fraction) {
      split_for_training(doc.text, kMaxTrainingLineBytes,
                         [&](std::string_view line) { sample.add(line); });
    }
    report.text_bytes += d.bytes;
    info.push_back(std::move(d));
  });
  if (sample.bytes() == 0 && !info.empty()) {
    // Every document hashed into validation (a tiny corpus): the split's rule 2 will move one
    // back, so sample the tokenizer from all of them rather than from none.
    corpus.for_each_document([&](Document&& doc) {
      split_for_training(doc.text, kMaxTrainingLineBytes,
                         [&](std::string_view line) { sample.add(line); });
    });
  }
  report.read_seconds = seconds_since(start);
  log::info("prepare: " + std::to_string(info.size()) + " documents, " +
            megabytes(report.text_bytes) + " of text from " +
            std::to_string(corpus.files().size()) + " files");

  // 2. The tokenizer: trained on the sample, or the one given (checked before anything is
  // encoded, so a wrong model costs seconds).
  const auto train_start = Clock::now();
  std::string model;
  if (options.tokenizer_model.empty()) {
    const std::vector<std::string> sentences = sample.take();
    for (const std::string& s : sentences) report.sample_bytes += static_cast<int64_t>(s.size());
    model = Tokenizer::train(sentences, options.vocab_size);
    log::info("prepare: trained a " + std::to_string(options.vocab_size) + "-piece tokenizer on " +
              std::to_string(sentences.size()) + " sentences (" + megabytes(report.sample_bytes) +
              ")");
  } else {
    model = given_tokenizer(options.tokenizer_model, options.vocab_size);
    log::info("prepare: using the tokenizer " + options.tokenizer_model);
  }
  write_durably((partial / kTokenizerFile).string(), model);
  report.tokenizer_sha256 = sha256_hex(model);
  const Tokenizer tokenizer = Tokenizer::from_bytes(model);
  report.train_seconds = seconds_since(train_start);

  // 3. Every document, encoded into one stream in reading order.
  const auto encode_start = Clock::now();
  const std::string all_path = (partial / kAllTokensFile).string();
  {
    TokenShardWriter all(all_path, tokenizer.vocab_size());
    std::vector<Document> batch;
    size_t batch_bytes = 0, done = 0;
    auto flush = [&] {
      encode_batch(tokenizer, threads, batch, info, done, all);
      done += batch.size();
      batch.clear();
      batch_bytes = 0;
    };
    corpus.for_each_document([&](Document&& doc) {
      const size_t index = done + batch.size();
      if (index >= info.size() || doc.name != info[index].name) {
        throw DataError("the sources changed while prepare was reading them (document " +
                        std::to_string(index) + ", " + doc.name + ")");
      }
      batch_bytes += doc.text.size();
      batch.push_back(std::move(doc));
      if (batch_bytes >= kEncodeBatchBytes) flush();
    });
    flush();
    if (done != info.size()) throw DataError("the sources changed while prepare was reading them");
    all.finish();
  }
  report.encode_seconds = seconds_since(encode_start);

  // 4. The split, by tokens, and the two shards.
  std::vector<SplitInput> inputs;
  for (const DocumentInfo& d : info) inputs.push_back({d.u, d.tokens});
  const std::vector<SplitDecision> split = split_documents(inputs, options.val_fraction);
  {
    const TokenShard all = TokenShard::open(all_path, tokenizer.vocab_size());
    TokenShardWriter train((partial / kTrainShardFile).string(), tokenizer.vocab_size());
    TokenShardWriter val((partial / kValShardFile).string(), tokenizer.vocab_size());
    for (size_t i = 0; i < info.size(); ++i) {
      const int64_t begin = all.document_start(static_cast<int64_t>(i));
      const int64_t end = all.document_start(static_cast<int64_t>(i) + 1);
      (split[i].validation ? val : train)
          .add_document(all.tokens() + begin, static_cast<size_t>(end - begin));
      report.moved_documents += split[i].moved ? 1 : 0;
    }
    train.finish();
    val.finish();
    report.train_documents = train.document_count();
    report.val_documents = val.document_count();
    report.train_tokens = train.token_count();
    report.val_tokens = val.token_count();
  }
  fs::remove(all_path);
  const int64_t text_tokens =
      report.train_tokens + report.val_tokens - report.train_documents - report.val_documents;
  report.bytes_per_token =
      text_tokens > 0 ? static_cast<double>(report.text_bytes) / static_cast<double>(text_tokens)
                      : 0;

  write_durably((partial / kDocumentsFile).string(), documents_table(info, split));
  DatasetManifest manifest;
  manifest.vocab_size = tokenizer.vocab_size();
  manifest.bos_id = tokenizer.bos_id();
  manifest.tokenizer_sha256 = report.tokenizer_sha256;
  manifest.sources = options.sources;
  manifest.val_fraction = options.val_fraction;
  manifest.train_documents = report.train_documents;
  manifest.val_documents = report.val_documents;
  manifest.moved_documents = report.moved_documents;
  manifest.train_tokens = report.train_tokens;
  manifest.val_tokens = report.val_tokens;
  manifest.text_bytes = report.text_bytes;
  write_durably((partial / kManifestFile).string(), manifest_json(manifest));
  commit(partial, target);
  report.total_seconds = seconds_since(start);
  return report;
}

}  // namespace

PrepareReport prepare_dataset(const PrepareOptions& options) {
  const fs::path target = normalized_target(options.dataset_dir);
  check_target(target, options.force);
  const Corpus corpus = Corpus::from_sources(options.sources, options.corpus_dir);
  const fs::path partial = target.string() + ".partial";
  make_partial_dir(partial);
  try {
    return build(options, corpus, partial, target);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    throw;
  }
}

}  // namespace journey
