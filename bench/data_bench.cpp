// Data pipeline throughput: tokenizer encode/decode (MB/s of text) and the batch loader
// (tokens/s delivered), against what training consumes.
//
//   data_bench [--text FILE] [--vocab V] [--threads T] [--seq-len L] [--batch B]
//
// The tokenizer is trained on FILE (default: the test fixture tests/data/austen-emma.txt) as
// prepare would, then encodes the cleaned text one document per call on 1 and on T threads
// (prepare encodes documents in parallel) and decodes it. The loader reads a 16M-token
// synthetic shard in a temporary directory and fills global batches of B sequences of L + 1
// tokens, as the trainer does each step; "tokens/s" counts the int64 tokens written.
// Results: BENCHMARKS.md, "Data pipeline".
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "data/batch_loader.h"
#include "io/token_shard.h"
#include "prepare/text.h"
#include "prepare/tokenizer.h"

namespace journey {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Options {
  std::string text = std::string(JOURNEY_SOURCE_DIR) + "/tests/data/austen-emma.txt";
  int64_t vocab = 2048;
  int threads = 2;
  int64_t seq_len = 128;
  int64_t batch = 64;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--text")
      o.text = value;
    else if (flag == "--vocab")
      o.vocab = std::atoll(value);
    else if (flag == "--threads")
      o.threads = std::atoi(value);
    else if (flag == "--seq-len")
      o.seq_len = std::atoll(value);
    else if (flag == "--batch")
      o.batch = std::atoll(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  return o;
}

// Encodes every section on `threads` threads; returns seconds and the token count.
double encode_all(const Tokenizer& tokenizer, const std::vector<std::string>& sections, int threads,
                  int64_t* tokens) {
  std::atomic<size_t> next{0};
  std::atomic<int64_t> count{0};
  const auto start = Clock::now();
  auto work = [&] {
    for (size_t i; (i = next++) < sections.size();) count += tokenizer.encode(sections[i]).size();
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  *tokens = count;
  return seconds_since(start);
}

void tokenizer_bench(const Options& o) {
  std::ifstream in(o.text, std::ios::binary);
  std::ostringstream raw;
  raw << in.rdbuf();
  const std::string cleaned = clean_text(raw.str());
  const std::vector<std::string> sections = split_sections(cleaned);
  std::vector<std::string> sentences;
  split_for_training(cleaned, kMaxTrainingLineBytes,
                     [&](std::string_view line) { sentences.emplace_back(line); });
  auto start = Clock::now();
  const Tokenizer tokenizer = Tokenizer::from_bytes(Tokenizer::train(sentences, o.vocab));
  const double train_s = seconds_since(start);
  const double mb = cleaned.size() / 1e6;
  std::printf("text %s: %.2f MB, %zu sections; BPE vocab %lld trained in %.2f s (%.2f MB/s)\n",
              o.text.c_str(), mb, sections.size(), static_cast<long long>(o.vocab), train_s,
              mb / train_s);
  std::printf("%-38s %10s %12s\n", "operation", "MB/s", "tokens/s");
  int64_t tokens = 0;
  for (int threads : {1, o.threads}) {
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep)
      best = std::min(best, encode_all(tokenizer, sections, threads, &tokens));
    char label[64];
    std::snprintf(label, sizeof label, "encode, %d thread(s)", threads);
    std::printf("%-38s %10.2f %12.0f\n", label, mb / best, tokens / best);
    if (o.threads == 1) break;
  }
  // Why encode() cuts text into ~1 KB pieces: SentencePiece's cost per byte grows with input
  // length. The whole cleaned text, encoded in pieces of each size (0: one call).
  for (size_t chunk : {size_t{256}, size_t{1024}, size_t{4096}, size_t{16384}, size_t{0}}) {
    double best = 1e30;
    for (int rep = 0; rep < 2; ++rep) {
      start = Clock::now();
      const std::vector<int> ids = tokenizer.encode(cleaned, chunk);
      best = std::min(best, seconds_since(start));
    }
    char label[64];
    std::snprintf(label, sizeof label, "encode whole text, %zu-byte pieces", chunk);
    std::printf("%-38s %10.2f\n", chunk ? label : "encode whole text in one call", mb / best);
  }
  std::vector<std::vector<int>> encoded;
  for (const std::string& s : sections) encoded.push_back(tokenizer.encode(s));
  start = Clock::now();
  for (const auto& ids : encoded) {
    if (tokenizer.decode(ids).empty()) std::abort();
  }
  const double decode_s = seconds_since(start);
  std::printf("%-38s %10.2f %12.0f\n", "decode, 1 thread", mb / decode_s, tokens / decode_s);
  std::printf("bytes per token %.3f\n\n", cleaned.size() / static_cast<double>(tokens));
}

void loader_bench(const Options& o) {
  const fs::path dir =
      fs::temp_directory_path() / ("journey-data-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "train.tokens").string();
  const int64_t n_tokens = 16 << 20;
  {
    std::mt19937 rng(1);
    std::vector<uint16_t> doc(n_tokens);
    for (auto& t : doc) t = static_cast<uint16_t>(rng() % o.vocab);
    TokenShardWriter writer(path, o.vocab);
    writer.add_document(doc);
    writer.finish();
  }
  auto start = Clock::now();
  const TokenShard shard = TokenShard::open(path, o.vocab);
  const double open_s = seconds_since(start);
  const BatchLoader loader(shard, o.seq_len, o.batch, 0);
  std::vector<int64_t> out(o.batch * (o.seq_len + 1));
  const int64_t row = o.seq_len + 1;
  // Two epochs' worth of steps: the first pass faults the mapping in, like a real first epoch.
  const int64_t steps = 2 * loader.window_count() / o.batch;
  start = Clock::now();
  int64_t checksum = 0;
  for (int64_t t = 0; t < steps; ++t) {
    loader.fill(t, 0, o.batch, out.data());
    checksum += out[t % out.size()];
  }
  const double fill_s = seconds_since(start);
  const double tokens_per_s = steps * o.batch * row / fill_s;
  std::printf("loader: shard of %lld tokens (%.0f MB) opened and verified in %.3f s (%.0f MB/s)\n",
              static_cast<long long>(n_tokens), n_tokens * 2 / 1e6, open_s,
              n_tokens * 2 / 1e6 / open_s);
  std::printf(
      "loader: %lld steps of %lld x %lld tokens in %.3f s: %.3g tokens/s, %.0f steps/s "
      "(checksum %lld)\n",
      static_cast<long long>(steps), static_cast<long long>(o.batch), static_cast<long long>(row),
      fill_s, tokens_per_s, steps / fill_s, static_cast<long long>(checksum));
  std::printf("margin over a trainer consuming 50k tokens/s: %.0fx\n", tokens_per_s / 50e3);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace journey

int main(int argc, char** argv) {
  const journey::Options options = journey::parse(argc, argv);
  journey::tokenizer_bench(options);
  journey::loader_bench(options);
  return 0;
}
