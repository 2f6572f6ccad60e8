// Trains one cell on one worker group: the loop of the paper's sparse pre-training.
//
// Each step t (read trainer.cpp top to bottom):
//   1. agree with the group whether to stop (preemption) and if so checkpoint and return;
//   2. if the schedule has a pruning event at t, prune (before this step's update);
//   3. read this rank's part of the global batch (a pure function of seed, t and position);
//   4. forward and backward through the FSDP units, gradients reduce-scattered per unit;
//   5. mask, clip and apply AdamW on the local shards (queued on the device; the loss and
//      gradient norm are read once, after the update);
//   6. record loss, lr, grad norm, N_t, density, tokens, FLOPs, tokens/s, MFU;
//   7. evaluate every eval_every steps, checkpoint every checkpoint_every steps.
// Divergence stops the run with status "diverged" and a reason naming the step: a non-finite
// loss or gradient norm (the step's update is not applied), or
// non-finite weights found when a checkpoint is due (it is not written). So every checkpoint
// holds finite weights, and the newest one is the last good state.
//
// Outputs, in TrainerOptions::out_dir (written by the group leader): config.ini (the
// effective config), metrics.csv, eval.csv, progress.json, summary.json, a TensorBoard event
// file per process (run/tensorboard_events.h) and checkpoints/ckpt-<step>.h5.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/collectives.h"
#include "common/config.h"
#include "run/metrics_history.h"
#include "run/run_progress.h"
#include "run/run_summary.h"

namespace journey {

class Dataset;

struct TrainerOptions {
  std::string out_dir;
  std::string cell_id;
  // Resume from the newest valid checkpoint in out_dir/checkpoints when there is one.
  bool resume = true;
  // Print a progress line every train.log_every steps (group leader only), to stdout or,
  // when log_path is set, appended to that file. progress.json is written either way.
  bool print_progress = true;
  std::string log_path;
  // Called on the leader after every step.
  std::function<void(const RunProgress&)> on_progress;
  // Called on the leader after the phases that make no step (loading or initialising the
  // model, an evaluation, a checkpoint), so that a watcher hears from the run between steps.
  std::function<void()> on_alive;
  // Polled on every rank at each step boundary; the group stops if any rank says so.
  std::function<bool()> stop_requested;
  // Where the model trains (worker/device.h); the group's collectives must reach it.
  at::Device device = at::kCPU;
};

class Trainer {
 public:
  // `group` is the worker group (any size); `dataset` outlives the trainer.
  Trainer(const RunConfig& config, const Dataset& dataset, Collectives& group,
          TrainerOptions options);
  // The run's summary (also written to out_dir/summary.json by the leader).
  RunSummary run();

 private:
  RunConfig config_;
  const Dataset& dataset_;
  Collectives& group_;
  TrainerOptions options_;
};

}  // namespace journey
