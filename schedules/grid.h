// The sweep grid: the cartesian product of the [sweep] axes, expanded into cells.
//
// Axes: model size (DxLxH), sparsity, schedule, phases (c_s:c_e), duration (tokens per
// parameter) and seed. A dense cell (sparsity 0) has no schedule or phases, so those axes
// collapse for it: one dense cell per (size, duration, seed). Cell IDs are readable and
// depend only on the axis values, so the same config names the same cells on any machine:
//   128x2x4-sp0.8-geometric-p25-75-tpp20-seed0     128x2x4-dense-tpp20-seed0
//
// Per-size settings (sweep.lr, sweep.batch_tokens, common/sweep_axes.h) set each cell's
// train.lr and train.batch_tokens; they are functions of the size, so ids leave them out.
// The lr axis (sweep.lrs) is different: each rate is its own cells, whose ids end in
// "-lr<rate>" (128x2x4-dense-tpp20-seed0-lr0.006); without sweep.lrs ids have no lr part.
//
// With sweep.matched_dense, every sparse cell also gets a matched dense cell, id
// "match-<sparse id>": a dense model with as many prunable parameters as the sparse run's
// N-bar (same layers and heads, the width whose f = 4d model comes closest, then the SwiGLU
// width that closes the gap), trained on the same tokens D with the sparse run's batch and
// the lr of its own size: an lr rule's at its prunable count, or a per-size list's,
// interpolated in log lr against log N between the listed sizes around it (the nearest listed
// size's outside them); with an lr axis, the sparse cell's rate (a twin per rate); the base
// lr when none is given. The paper's claim is that the two
// reach the same loss.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"

namespace journey {

struct Cell {
  std::string id;
  RunConfig config;                   // The base config with this cell's axis values filled in.
  double estimated_flops = 0;         // Work actually executed (dense matmuls), for ordering.
  std::vector<std::string> warnings;  // The plan's (schedules/run_plan.h).
};

// Throws UsageError for malformed lists (common/sweep_axes.h; validate() reports them first).
std::vector<Cell> expand_grid(const RunConfig& base);

// "DxLxH" of a model config, with "f<ffn>" appended when the SwiGLU width is not 4d.
std::string size_name(const ModelConfig& model);

// The dense model (same layers and heads) whose prunable parameter count is closest to
// `target`; see the header comment.
ModelConfig matched_dense_model(const ModelConfig& sparse, int64_t vocab_size, double target);

}  // namespace journey
