// journey-torch: the commands that run LibTorch. Users run them as `journey <command>`;
// app/command.h explains the split.
#include <vector>

#include "app/command.h"

namespace journey {
namespace {

const std::vector<Command> kTorchCommands = {
    {"train", "train one cell (one model, schedule and dataset) on this launch's ranks", run_train},
    {"sweep", "run a sweep: a coordinator and worker groups over the [sweep] grid", run_sweep},
};

}  // namespace
}  // namespace journey

int main(int argc, char** argv) {
  return journey::dispatch(argc, argv, journey::kTorchCommands, "journey-torch");
}
