// `journey-torch eval-tokens --checkpoint CKPT --tokens FILE --bytes N`: the LibTorch half of
// `journey eval` (app/cmd_eval.cpp), which tokenizes the text and runs this; not meant to be
// run by hand.
//
// On one process: builds the model from the config stored in the checkpoint, restores its
// weights (worker/run_checkpoint.h), and scores the token shard FILE as one stream
// (worker/scoring.h stream_loss: every token but the first predicted exactly once, with up
// to seq_len tokens of context). Prints the mean loss in nats per predicted token and bits per byte
// = total nats / ln 2 / N, where N is the byte count of the text the tokens came from.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/command.h"
#include "comm/mpi_session.h"
#include "common/config.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "io/checkpoint_file.h"
#include "io/token_shard.h"
#include "worker/device.h"
#include "worker/run_checkpoint.h"
#include "worker/scoring.h"
#include "worker/sharded_model.h"
#include "worker/threads.h"

namespace po = boost::program_options;

namespace journey {
namespace {

constexpr char kUsage[] = "journey-torch eval-tokens --checkpoint CKPT --tokens FILE --bytes N";

}  // namespace

int command_eval_tokens(const Args& args) {
  po::options_description flags("Options");
  flags.add_options()("checkpoint", po::value<std::string>()->required(), "checkpoint file")(
      "tokens", po::value<std::string>()->required(), "token shard of the text")(
      "bytes", po::value<int64_t>()->required(), "bytes of the text the tokens encode");
  const ParsedFlags parsed = parse_flags(
      args, flags, {},
      {kUsage,
       "The LibTorch half of `journey eval`, which tokenizes the text and runs this; not meant "
       "to be run by hand. Scores the token shard FILE with the checkpoint's model on one "
       "process and prints the mean loss in nats per token and bits per byte for a text of N "
       "bytes.",
       true});
  if (parsed.help) return exit_code::kOk;
  const po::variables_map& vm = parsed.flags;
  const std::string checkpoint = vm["checkpoint"].as<std::string>();
  const int64_t bytes = vm["bytes"].as<int64_t>();
  if (bytes <= 0) throw UsageError("--bytes must be positive (usage: " + std::string(kUsage) + ")");

  std::string config_ini, tokenizer_hash;
  int64_t step = 0;
  {
    CheckpointReader reader = CheckpointReader::open(checkpoint);
    config_ini = reader.attr_string(checkpoint::kConfigAttr);
    tokenizer_hash = reader.attr_string(checkpoint::kTokenizerHashAttr);
    step = reader.attr_int(checkpoint::kStepAttr);
  }
  const RunConfig config = parse_config_text(config_ini, "the config stored in " + checkpoint);
  const TokenShard shard = TokenShard::open(vm["tokens"].as<std::string>(), config.data.vocab_size);
  if (shard.size() < 2) {
    throw DataError("token file " + shard.path() +
                    " holds fewer than 2 tokens: nothing to predict");
  }

  MpiSession mpi(nullptr, nullptr);
  Communicator world = Communicator::world();
  if (world.size() != 1) throw UsageError("eval-tokens runs on one process, not under mpirun");
  TrainConfig all_cores;
  all_cores.threads = 0;
  configure_threads(all_cores, 1);
  // A GPU when there is one, whatever device the checkpoint was trained on.
  const at::Device device = choose_device(DeviceKind::kAuto, 0);
  std::unique_ptr<Collectives> solo =
      make_device_collectives(world, device, "auto", /*timeout_seconds=*/0);
  ShardedModel model(config.model, config.data.vocab_size, *solo, device, config.train.precision);
  load_checkpoint(model, checkpoint, config, tokenizer_hash, nullptr);

  const StreamLoss loss = stream_loss(model, shard);
  const double nats = loss.nats;
  const int64_t predicted = loss.predicted;
  std::printf("checkpoint  %s (step %lld)\n", checkpoint.c_str(), static_cast<long long>(step));
  std::printf("loss        %.6f nats per token\n", nats / predicted);
  std::printf("bpb         %.6f bits per byte\n", nats / std::log(2.0) / bytes);
  return exit_code::kOk;
}

}  // namespace journey
