// Trains one cell on one worker group: the loop of the paper's sparse pre-training.
//
// Each step t (read trainer.cpp top to bottom):
//   1. agree with the group whether to stop (preemption) and if so checkpoint and return;
//   2. if the schedule has a pruning event at t, prune (before this step's update);
//   3. read this rank's part of the global batch (a pure function of seed, t and position);
//   4. forward and backward through the FSDP units, gradients reduce-scattered per unit;
//   5. mask, clip and apply AdamW on the local shards;
//   6. record loss, lr, grad norm, N_t, density, tokens, FLOPs, tokens/s, MFU;
//   7. evaluate every eval_every steps, checkpoint every checkpoint_every steps.
// Divergence stops the run with status "diverged" and a reason naming the step: a non-finite
// loss (before the update), a non-finite gradient norm (the update is not applied), or
// non-finite weights found when a checkpoint is due (it is not written). So every checkpoint
// holds finite weights, and the newest one is the last good state.
//
// Outputs, in TrainerOptions::out_dir (written by the group leader): config.ini (the
// effective config), metrics.csv, eval.csv, summary.json and checkpoints/ckpt-<step>.h5.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/collectives.h"
#include "common/config.h"
#include "worker/step_metrics.h"

namespace journey {

class Dataset;

enum class RunStatus { kDone, kDiverged, kPreempted };
const char* status_name(RunStatus status);  // "done", "diverged", "preempted"

struct TrainerOptions {
  std::string out_dir;
  std::string cell_id;
  // Resume from the newest valid checkpoint in out_dir/checkpoints when there is one.
  bool resume = true;
  // Print a progress line every train.log_every steps (group leader only), to stdout or,
  // when log_path is set, appended to that file.
  bool print_progress = true;
  std::string log_path;
  // Called on the leader after every step.
  std::function<void(const StepRecord&)> on_step;
  // Polled on every rank at each step boundary; the group stops if any rank says so.
  std::function<bool()> stop_requested;
};

struct TrainResult {
  RunStatus status = RunStatus::kDone;
  std::string reason;  // Why the run did not finish, if it did not.
  int64_t steps_done = 0;
  int64_t total_steps = 0;
  int64_t tokens = 0;          // D: tokens trained on.
  int64_t initial_active = 0;  // N_initial: prunable parameters of the dense model.
  int64_t final_active = 0;    // N_final
  double mean_active = 0;      // N-bar over the whole run (prunable)
  int64_t embedding_params = 0;
  double compute = 0;     // C = sum_t 6 N_t B
  double final_loss = 0;  // Last training loss.
  double final_eval_loss = 0;
  double wall_s = 0;                         // Wall time of this process's part of the run.
  double tokens_per_s = 0;                   // Mean over this process's steps.
  std::vector<std::string> param_names;      // Prunable parameters...
  std::vector<double> param_final_sparsity;  // ...and their final sparsity.
};

class Trainer {
 public:
  // `group` is the worker group (any size); `dataset` outlives the trainer.
  Trainer(const RunConfig& config, const Dataset& dataset, Collectives& group,
          TrainerOptions options);
  TrainResult run();

 private:
  RunConfig config_;
  const Dataset& dataset_;
  Collectives& group_;
  TrainerOptions options_;
};

}  // namespace journey
