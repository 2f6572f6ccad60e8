// TensorBoard event files: a run's scalars as it trains, so `tensorboard --logdir DIR` shows
// every cell of a sweep live (each cell directory is one TensorBoard run, named cells/<id>).
//
// The format is TensorFlow's TFRecord of `Event` protocol buffers, which TensorBoard reads
// without TensorFlow: each record is its length (uint64), the length's masked CRC-32C, the
// serialized Event and its masked CRC-32C. An Event here is wall_time (field 1), step (2) and
// either file_version "brain.Event:2" (3, the first record), a Summary of one simple_value
// (5), or a SessionLog START (7). The few protobuf fields are encoded by hand; CRC-32C is
// Boost.CRC's.
//
// Each process writes its own file (events.out.tfevents.<microseconds>.<host>.<pid>). A
// resumed run starts its file with SessionLog START at the first step it trains again, which
// tells TensorBoard to drop the older files' points from that step on (the steps trained after
// the checkpoint it resumed from), so every step is shown once. Steps are counted as steps done
// (1-based), like eval.csv. Every add_*() ends with fflush: the file is readable as training goes.
// Errors while writing are reported once as a warning and the file is dropped; a run never fails
// over its TensorBoard file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "run/metrics_history.h"

namespace journey {

class TensorBoardEvents {
 public:
  // Opens a new event file in `dir` (which must exist). `resumed_at`: the step done count the
  // run continues from (0 for a fresh start).
  TensorBoardEvents(const std::string& dir, int64_t resumed_at);
  ~TensorBoardEvents();
  TensorBoardEvents(const TensorBoardEvents&) = delete;
  TensorBoardEvents& operator=(const TensorBoardEvents&) = delete;

  // train/loss, train/lr, train/grad_norm, train/density, train/tokens_per_s and train/mfu at
  // step r.step + 1.
  void add_step(const StepRecord& r);
  // eval/loss at step e.step.
  void add_eval(const EvalRecord& e);

  const std::string& path() const { return path_; }

 private:
  void add_scalar(const std::string& tag, int64_t step, double value);
  void write_record(const std::string& event);
  void flush();

  std::string path_;
  std::FILE* file_ = nullptr;
};

// CRC-32C (Castagnoli) as TFRecord masks it, exposed for its test vectors.
uint32_t tfrecord_masked_crc32c(const void* data, size_t size);

}  // namespace journey
