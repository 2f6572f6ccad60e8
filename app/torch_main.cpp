// journey-torch: the commands that run LibTorch. Users run them as `journey <command>`;
// app/command.h explains the split.
#include <vector>

#include "app/command.h"

namespace journey {
namespace {

const std::vector<Command> kTorchCommands = {
    {"train", "train one cell (one model, schedule and dataset) on this launch's ranks",
     command_train},
    {"sweep", "run a sweep: a coordinator and worker groups over the [sweep] grid", command_sweep},
    // Internal: the LibTorch half of `journey eval` (app/cmd_eval.cpp runs it).
    {"eval-tokens", "score a token file with a checkpoint (used by journey eval)",
     command_eval_tokens},
};

}  // namespace
}  // namespace journey

int main(int argc, char** argv) {
  return journey::dispatch(argc, argv, journey::kTorchCommands, "journey-torch");
}
