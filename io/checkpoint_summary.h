// What `journey inspect` reports about a checkpoint, computed from a CheckpointReader.
//
// summarize() gathers the root attributes, parameter counts, sparsity from the masks (per
// parameter, per layer and overall), N-bar so far (the mean of history/active) and every
// problem found by CheckpointReader::verify() (checksums, decompression) and
// check_consistency() (masks against parameters). It reads the whole file once for
// verification and the masks (and masked parameters) once more; it throws only what
// CheckpointReader::open() would (an unreadable mask is a listed problem, left out of the
// sparsity figures).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/checkpoint_file.h"

namespace journey {

// Kept and total entries of one mask or a group of masks.
struct MaskCount {
  std::string name;
  int64_t total = 0;
  int64_t kept = 0;
  double sparsity() const { return total > 0 ? 1.0 - static_cast<double>(kept) / total : 0.0; }
};

struct CheckpointSummary {
  std::string path;
  std::vector<std::pair<std::string, CheckpointReader::AttrValue>> attributes;  // By name.
  int64_t datasets = 0;               // Every dataset in the file (all verified).
  int64_t parameter_tensors = 0;      // Datasets under params/.
  int64_t parameter_count = 0;        // Their elements.
  std::vector<MaskCount> parameters;  // One per readable mask (the prunable weights), by name.
  // Parameters grouped by the name before the last dot: "layers.0.attn.wq" is in
  // "layers.0.attn".
  std::vector<MaskCount> layers;
  MaskCount prunable{"all prunable weights"};  // Every readable mask together.
  std::optional<double> mean_active;           // N-bar so far, when history/active exists.
  int64_t history_steps = 0;                   // Length of history/active.
  std::vector<CheckpointProblem> problems;     // Empty when the checkpoint is sound.
};

CheckpointSummary summarize(const CheckpointReader& reader);

// The keys of a config attribute's INI text that tell runs apart (model shape, data, length,
// optimiser, pruning), as ("section.key", value) in a fixed order; keys absent from `ini` are
// left out.
std::vector<std::pair<std::string, std::string>> config_highlights(const std::string& ini);

}  // namespace journey
