// Saving and restoring a training run through an HDF5 checkpoint (io/checkpoint_file.h).
//
// Tensors are stored at their full logical shapes, so a checkpoint written by k ranks
// restores on any j: each rank reads its own rows of every parameter, mask and AdamW moment.
// The sharded write gathers each unit's shards to the group leader, which writes each
// rank's row range of every parameter as a slab (serial HDF5; docs/checkpoint-format.md says
// why), one unit and one state tensor at a time.
//
// Nothing in training draws random numbers after initialisation (no dropout; the loader is
// a pure function of seed and step), so the step, the AdamW step count, the weights, moments
// and masks are the whole state: resuming gives bitwise the run that never stopped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "run/metrics_history.h"
#include "worker/sharded_model.h"

namespace journey {

struct CheckpointMeta {
  int64_t step = 0;  // The next step to train.
  int64_t tokens_seen = 0;
  int64_t adam_steps = 0;
  double keep = 1.0;  // Keep fraction in force (schedule state, for inspection).
  std::string cell_id;
  std::string run_id;  // Random per run (not per attempt): whose checkpoints prune_old() prunes.
  std::string tokenizer_hash;
  std::string data_fingerprint;          // Dataset::fingerprint of the training data.
  std::string config_ini;                // The effective config of the run.
  std::vector<uint8_t> tokenizer_model;  // So `journey eval` needs only the checkpoint.
};

// Collective over the model's group; the leader (rank 0) writes `path` atomically. When the
// write fails (the directory cannot be written, the disk is full) every rank throws
// DataError, the leader's naming the cause, and the file is not left behind.
void save_checkpoint(ShardedModel& model, const CheckpointMeta& meta, const MetricsHistory& history,
                     const std::string& path);

// Collective: every rank reads its rows into the model. Throws, naming the file, a
// UsageError when it belongs to another run than `expected` describes (every rank then
// throws the same; exit 2, as for a sweep directory of another config): a different model or
// training config (common/config.h training_identity: operational and evaluation keys such
// as threads, checkpoint cadence or eval_sequences may differ), another tokenizer, or other
// training data (when `data_fingerprint` is given and the file records one; `journey eval`
// reads any checkpoint on any text); a DataError when its attributes were edited or its
// tensors have other shapes or values.
CheckpointMeta load_checkpoint(ShardedModel& model, const std::string& path,
                               const RunConfig& expected, const std::string& tokenizer_hash,
                               MetricsHistory* history, const std::string& data_fingerprint = "");

}  // namespace journey
