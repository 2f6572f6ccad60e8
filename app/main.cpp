// journey: the command-line entry point. Dispatch only; each command lives in app/cmd_*.cpp,
// and the commands that train run in journey-torch (see app/command.h).
#include <vector>

#include "app/command.h"

namespace journey {
namespace {

const std::vector<Command> kCommands = {
    {"schedule", "print a run's pruning schedule, N-bar and compute before training",
     command_schedule},
    {"config", "print the effective config (defaults + file + overrides)", command_config},
    // -- data --
    {"prepare", "build a dataset (tokenizer + token shards) from the default corpus or files",
     command_prepare},
    // -- fit --
    {"fit", "fit the scaling laws to results, with bootstrap intervals and validation",
     command_fit},
    {"plan", "the sparsity, size and tokens with the lowest predicted loss for a budget",
     command_plan},
    // -- io --
    {"inspect", "show a checkpoint's step, sparsity and N-bar, and verify its checksums",
     command_inspect},
    {"export", "write a checkpoint's model as a Hugging Face Llama folder or safetensors",
     command_export},
    {"import", "a Hugging Face Llama folder (or a journey export) as a checkpoint to eval or train",
     command_import},
    // -- worker --
    {"train", "train one cell (one model, schedule and dataset) on this launch's ranks", nullptr},
    {"eval", "a checkpoint's loss (nats/token, bits/byte) on any text file", command_eval},
    {"sweep", "run a sweep: a coordinator and worker groups over the [sweep] grid", nullptr},
    // -- slurm --
    {"submit", "submit a sweep as a self-requeueing Slurm batch job", command_submit},
    {"status", "show a sweep's progress (and its Slurm job) from its directory", command_status},
    // -- report --
    {"report", "an HTML report of a sweep: figures, the fit, a plan, run metadata", command_report},
};

}  // namespace
}  // namespace journey

int main(int argc, char** argv) {
  return journey::dispatch(argc, argv, journey::kCommands, "journey");
}
