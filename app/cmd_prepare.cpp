// `journey prepare`: build a dataset directory (tokenizer + token shards) from the default
// corpus or the user's files. The work is in prepare/prepare.h.
#include <cstdio>
#include <iostream>

#include "app/cli.h"
#include "common/exit_codes.h"
#include "prepare/prepare.h"

namespace po = boost::program_options;

namespace journey {

int command_prepare(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("force", "replace an existing dataset in data.dir")(
      "tokenizer", po::value<std::string>(),
      "a SentencePiece .model to use instead of training one (e.g. LLaMA-2's)")(
      "corpus-dir", po::value<std::string>()->default_value(".cache/corpus"),
      "where scripts/fetch-corpus.sh unpacked the default corpus");
  ParsedCommand cmd = parse_command(args, flags, false);
  if (cmd.help) {
    print_help(
        "journey prepare [--config FILE] [--data.dir=DIR] [--data.sources=...] "
        "[--tokenizer MODEL] [--force]",
        "Builds a dataset directory: reads data.sources (\"default\", or plain text, JSON Lines\n"
        "with a \"text\" field and directories of them, optionally gzipped), trains a\n"
        "SentencePiece BPE tokenizer of data.vocab_size pieces (or takes --tokenizer's,\n"
        "which must have that many), splits documents into\n"
        "training and validation by a hash of their names (data.val_fraction) and writes\n"
        "uint16 token shards. See docs/data-format.md.",
        flags);
    return exit_code::kOk;
  }
  PrepareOptions options;
  options.dataset_dir = cmd.config.data.dir;
  options.sources = cmd.config.data.sources;
  options.corpus_dir = cmd.flags["corpus-dir"].as<std::string>();
  options.vocab_size = cmd.config.data.vocab_size;
  options.val_fraction = cmd.config.data.val_fraction;
  options.force = cmd.flags.count("force") > 0;
  if (cmd.flags.count("tokenizer"))
    options.tokenizer_model = cmd.flags["tokenizer"].as<std::string>();
  const PrepareReport r = prepare_dataset(options);

  const long long documents = r.train_documents + r.val_documents;
  const long long tokens = r.train_tokens + r.val_tokens;
  std::printf("dataset %s\n", options.dataset_dir.c_str());
  std::printf("documents %lld (train %lld, validation %lld, %lld moved by the split's fix-up)\n",
              documents, static_cast<long long>(r.train_documents),
              static_cast<long long>(r.val_documents), static_cast<long long>(r.moved_documents));
  std::printf("tokens %lld (train %lld, validation %lld = %.2f%%)\n", tokens,
              static_cast<long long>(r.train_tokens), static_cast<long long>(r.val_tokens),
              100.0 * static_cast<double>(r.val_tokens) / static_cast<double>(tokens));
  std::printf("text %lld bytes, %.3f bytes per token\n", static_cast<long long>(r.text_bytes),
              r.bytes_per_token);
  std::printf("tokenizer vocab %lld, sha256 %s\n",
              static_cast<long long>(cmd.config.data.vocab_size), r.tokenizer_sha256.c_str());
  std::printf("time %.1f s (read %.1f, tokenizer %.1f, encode %.1f)\n", r.total_seconds,
              r.read_seconds, r.train_seconds, r.encode_seconds);
  return exit_code::kOk;
}

}  // namespace journey
