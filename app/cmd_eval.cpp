// `journey eval --checkpoint CKPT --text FILE`: the loss of a checkpoint's model on any text
// file, in nats per token and in bits per byte (which compares across tokenizers).
//
// Two processes, because SentencePiece and LibTorch cannot share one (app/command.h). This
// torch-free half reads the tokenizer the checkpoint embeds (state/tokenizer_model, written
// by the trainer), encodes the whole file as one document (BOS, then its tokens, as
// `journey prepare` stores documents) into a token shard in a temporary directory, and counts
// the file's bytes; then it runs `journey-torch eval-tokens` (app/cmd_eval_tokens.cpp), which
// scores the shard with the checkpoint's weights and prints the numbers, waits for it and
// exits with its exit code. The temporary directory is removed in every case.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/command.h"
#include "common/error.h"
#include "common/executables.h"
#include "common/exit_codes.h"
#include "io/checkpoint_dir.h"
#include "io/checkpoint_file.h"
#include "io/token_shard.h"
#include "prepare/tokenizer.h"

namespace po = boost::program_options;

namespace journey {
namespace {

constexpr char kUsage[] = "journey eval --checkpoint CKPT --text FILE";
constexpr const char* kTokenizerBlob = checkpoint::kTokenizerModelBlob;

// A fresh directory under the system's temporary directory, removed with its contents when
// this goes out of scope.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "journey-eval-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw DataError("cannot create a temporary directory " + pattern + ": " +
                      std::strerror(errno));
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string read_text_file(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw DataError("text file " + path + " does not exist or is not a regular file");
  }
  std::ifstream in(path, std::ios::binary);
  std::string text(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) throw DataError("cannot read text file " + path);
  if (text.empty()) {
    throw DataError("text file " + path + " is empty: there is nothing to evaluate");
  }
  return text;
}

Tokenizer checkpoint_tokenizer(const std::string& checkpoint) {
  CheckpointReader reader = CheckpointReader::open(checkpoint);
  std::vector<uint8_t> model;
  if (reader.contains(kTokenizerBlob)) model = reader.read_blob(kTokenizerBlob);
  if (model.empty()) {
    throw DataError("checkpoint " + checkpoint + " holds no tokenizer (" + kTokenizerBlob +
                    "); only checkpoints of `journey train` or `journey sweep` can be evaluated");
  }
  return Tokenizer::from_bytes(std::string(model.begin(), model.end()));
}

}  // namespace

int command_eval(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("checkpoint", po::value<std::string>(),
                      "checkpoint file (ckpt-*.h5), or a cell's or run's directory: its newest "
                      "valid checkpoint")("text", po::value<std::string>(),
                                          "text file to score (UTF-8)");
  const ParsedFlags parsed = parse_flags(
      args, flags, {},
      {kUsage,
       "Scores a text file with a checkpoint's model and the tokenizer stored in the checkpoint: "
       "the mean loss in nats per token (every token of the file is predicted once, the first "
       "from the document start) and bits per byte = total nats / ln 2 / bytes of the file. Runs "
       "on one process with all cores.",
       true});
  if (parsed.help) return exit_code::kOk;
  const po::variables_map& vm = parsed.flags;
  for (const char* required : {"checkpoint", "text"}) {
    if (!vm.count(required)) {
      throw UsageError(std::string("missing --") + required + " (usage: " + kUsage + ")");
    }
  }
  const std::string checkpoint = resolve_checkpoint(vm["checkpoint"].as<std::string>());
  const std::string text_path = vm["text"].as<std::string>();

  const Tokenizer tokenizer = checkpoint_tokenizer(checkpoint);
  const std::string text = read_text_file(text_path);
  const std::vector<int> ids = tokenizer.encode(text);
  std::vector<uint16_t> document;
  document.reserve(ids.size() + 1);
  document.push_back(static_cast<uint16_t>(tokenizer.bos_id()));
  for (int id : ids) document.push_back(static_cast<uint16_t>(id));

  ScratchDir scratch;
  const std::string tokens = scratch.path() + "/text.tokens";
  TokenShardWriter writer(tokens, tokenizer.vocab_size());
  writer.add_document(document);
  writer.finish();

  std::printf("text        %s: %zu bytes, %zu tokens\n", text_path.c_str(), text.size(),
              ids.size());
  std::fflush(stdout);  // Before the child writes to the same stream.
  const std::string scorer = sibling_executable("journey-torch");
  const int code = run_and_wait({scorer, "eval-tokens", "--checkpoint", checkpoint, "--tokens",
                                 tokens, "--bytes", std::to_string(text.size())});
  if (code > 128) {
    std::fprintf(stderr, "journey eval: %s was killed by signal %d\n", scorer.c_str(), code - 128);
    return exit_code::kFailure;
  }
  return code;
}

}  // namespace journey
