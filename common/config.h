// The run configuration: one struct per INI section, parsed with Boost.Program_options.
//
// A run is described by an INI file with sections [model], [train], [prune], [data] and
// [sweep]. Any key may be overridden on the command line as --section.key=value; the
// command line wins. After parsing, validate() checks every value and throws UsageError
// naming the key, the value and the allowed range, so bad input never starts work.
// to_ini() prints the complete effective config (defaults included), which every run saves
// next to its outputs: feeding it back reproduces the run exactly.
//
// Enumerated keys are parsed into enums here, once; the sweep's lists are parsed by
// common/sweep_axes.h. Boost.Program_options is used in common/config.cpp only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace journey {

// Pruning schedules (schedules/density_schedule.h). kDense is a run without pruning; the
// config key prune.schedule names one of the other two.
enum class ScheduleKind { kDense, kGeometric, kCubic };
// What the phase fractions c_s and c_e are fractions of.
enum class PhaseUnits { kCompute, kSteps };
// One pruning threshold over every prunable matrix, or the same keep fraction in each.
enum class PruneScope { kGlobal, kLayer };
// Where a worker trains: a GPU when there is one (auto), or as told.
enum class DeviceKind { kAuto, kCpu, kCuda };
// Matmuls in float32, or in bfloat16 on bfloat16 copies of the linear weights made at gather
// time, attention under autocast (master weights, optimizer state, the loss and every pruning
// decision stay float32).
enum class Precision { kFp32, kBf16 };
// How a transformer block wires its layers (worker/model_families.h): llama is the paper's
// sequential block; parallel is GPT-J / GPT-NeoX's, attention and MLP both reading the block's
// input. Both have the same parameters, so counts, checkpoints and pruning are the same.
enum class ModelFamily { kLlama, kParallel };

// Names as written in configs: "dense", "geometric", "cubic"; "compute", "steps"; "global",
// "layer".
const char* schedule_name(ScheduleKind kind);
const char* phase_units_name(PhaseUnits units);
const char* scope_name(PruneScope scope);
const char* device_name(DeviceKind device);       // "auto", "cpu", "cuda"
const char* precision_name(Precision precision);  // "fp32", "bf16"
const char* family_name(ModelFamily family);      // "llama", "parallel"
// "geometric" or "cubic" (a config never names "dense"): throws UsageError naming `key`.
ScheduleKind parse_schedule_kind(const std::string& key, const std::string& text);

// Bounds far beyond any model this runs, so that typos fail in validate() rather than as an
// allocation failure or an overflow later.
constexpr int64_t kMaxWidth = int64_t{1} << 16;
constexpr int64_t kMaxLayers = 1024;

// [model]: a LLaMA-2 style decoder, or another family's block wiring (worker/model.h). The
// vocabulary size comes from [data] because the tokenizer defines it.
struct ModelConfig {
  int64_t d_model = 128;
  int64_t n_layers = 2;
  int64_t n_heads = 4;
  int64_t ffn_dim = 0;  // 0 means 4 * d_model, the paper's choice.
  int64_t seq_len = 128;
  double rope_base = 10000.0;
  double norm_eps = 1e-5;
  ModelFamily family = ModelFamily::kLlama;

  int64_t ffn() const { return ffn_dim > 0 ? ffn_dim : 4 * d_model; }
  int64_t head_dim() const { return d_model / n_heads; }
};

// [train]: optimiser, learning-rate schedule, duration and bookkeeping.
struct TrainConfig {
  int64_t tokens = 0;              // Total training tokens; 0 means tokens_per_param * N.
  double tokens_per_param = 20.0;  // N is the dense model's parameter count (paper convention).
  int64_t batch_tokens = 8192;     // Global batch, in tokens; a multiple of model.seq_len.
  double lr = 3e-3;                // Peak learning rate.
  double warmup_frac = 0.01;       // Linear warm-up over this fraction of steps...
  double final_lr_frac = 0.1;      // ...then cosine decay to this fraction of the peak.
  double weight_decay = 0.1;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double adam_eps = 1e-8;
  double clip = 1.0;  // Global gradient-norm clip; 0 disables it.
  int64_t seed = 0;
  int64_t eval_every = 0;        // Steps between eval passes; 0 evaluates at the end only.
  int64_t eval_sequences = 64;   // Validation sequences per eval (fixed, shared by all cells).
  int64_t checkpoint_every = 0;  // Steps between checkpoints; 0 checkpoints only on demand.
  int64_t keep_checkpoints = 2;
  int64_t log_every = 10;
  int64_t threads = 0;  // Intra-op threads per rank; 0 means cores / ranks on this node.
  DeviceKind device = DeviceKind::kAuto;  // cuda: GPU (local worker index % GPUs) per rank.
  Precision precision = Precision::kFp32;
  // Memory, not results: each rank runs its share of the batch in micro-batches of at most
  // this many tokens, accumulating gradients (0: the whole share at once), and recomputes
  // each block's activations in backward instead of keeping them.
  int64_t micro_batch_tokens = 0;
  bool activation_checkpointing = false;
  // Speed, not results: start each FSDP unit's all-gather while the previous unit computes,
  // and run its reduce-scatter during the next unit's backward (worker/sharded_model.h).
  bool fsdp_prefetch = true;
  // A rank that waits this long in one collective call ends the group (a peer died or hung;
  // common/collective_deadline.h); 0 waits forever. Generous: the longest legitimate wait is
  // the leader alone writing a checkpoint or checking a dataset.
  double collective_timeout_s = 1800;
  // The Collectives backend by name (comm/README.md): auto takes nccl on a GPU when this build
  // has it and mpi otherwise.
  std::string collectives = "auto";
};

// [prune]: gradual magnitude pruning (schedules/density_schedule.h).
struct PruneConfig {
  ScheduleKind schedule = ScheduleKind::kGeometric;  // The authors' (or cubic, Zhu & Gupta).
  double sparsity = 0.0;                             // Final fraction of prunable weights removed.
  double dense_frac = 0.25;                          // c_s: pruning starts after this fraction...
  double prune_end_frac = 0.75;  // ...and ends at c_e, both of compute or of steps.
  PhaseUnits phase_units = PhaseUnits::kCompute;  // Compute is the paper's.
  int64_t start_step = -1;                        // Explicit t_s and t_e override the fractions.
  int64_t end_step = -1;
  int64_t interval = 0;  // Delta: steps between pruning events; 0 means auto.
  PruneScope scope = PruneScope::kGlobal;
  // Prunable matrices never pruned: glob patterns over parameter names (schedules/
  // model_spec.h), e.g. "*.wq" or "layers.0.* head". They count as kept toward the sparsity,
  // so N_t is unchanged and the other matrices give up all of the pruned weights.
  std::string exclude;
};

// [data]: where tokens come from (data/ and io/token_shard.h).
struct DataConfig {
  std::string dir = ".cache/datasets/default";  // Dataset directory made by `journey prepare`.
  std::string sources = "default";  // For prepare: "default" corpus or files/dirs, spaces apart.
  int64_t vocab_size = 2048;
  double val_fraction = 0.02;  // Share of documents held out, chosen by a hash of the document.
};

// [sweep]: the grid. Each list is space or comma separated; a missing list means the
// single value from the sections above.
struct SweepConfig {
  std::string sizes;             // Model sizes as DxLxH, e.g. "128x2x4 256x4x4".
  std::string sparsities;        // e.g. "0 0.5 0.8".
  std::string phases;            // (c_s:c_e) pairs, e.g. "0.25:0.75 0:1".
  std::string tokens_per_param;  // Durations, e.g. "10 20".
  std::string schedules;         // geometric and/or cubic.
  std::string seeds;             // e.g. "0 1 2".
  // Per-size learning rates, "48x2x2:3e-3 96x2x4:2e-3" (every size listed), or a power law
  // in the dense model's prunable parameters N, "0.3*N^-0.35"; empty: train.lr for all.
  std::string lr;
  // Learning rates as a grid axis, each rate its own cells: "1e-3 3e-3" for every size, or
  // per-size lists "48x2x2:6e-3,1.2e-2 96x2x4:3e-3,6e-3" (every size listed); excludes
  // sweep.lr. Empty: no lr axis.
  std::string lrs;
  // Per-size global batches in tokens, "48x2x2:2048 96x2x4:4096"; empty: train.batch_tokens.
  std::string batch_tokens;
  int64_t group_size = 1;      // Ranks per worker group (FSDP shards).
  bool matched_dense = false;  // Add a dense cell matching each sparse cell's N-bar.
};

struct RunConfig {
  ModelConfig model;
  TrainConfig train;
  PruneConfig prune;
  DataConfig data;
  SweepConfig sweep;
};

// Parses `config_path` (may be empty: defaults only) and then `overrides`, each of the form
// "--section.key=value" or "--section.key value". Throws UsageError on an unknown key, a
// malformed value or a missing file. Does not validate.
RunConfig parse_config(const std::string& config_path, const std::vector<std::string>& overrides);

// Parses INI text (e.g. a config stored in a checkpoint); `origin` names it in errors.
RunConfig parse_config_text(const std::string& ini, const std::string& origin);

// Checks every rule; throws UsageError naming the first bad key, its value and the range.
void validate(const RunConfig& config);

// The complete effective config in INI syntax; parse_config() of it gives `config` back.
std::string to_ini(const RunConfig& config);

// The config keys that change results, as INI text: to_ini() with the operational keys
// (threads, logging, evaluation and checkpoint cadence, dataset location, group size) reset.
// Two sweeps with the same identity compute the same thing; a sweep directory is refused by
// a sweep with another identity.
std::string result_identity(const RunConfig& config);

// What a checkpoint must agree with to be resumed: result_identity() without
// train.eval_sequences, which changes what the final evaluation measures but not the
// training itself, and without [sweep]: a sweep's grid may grow while a cell is preempted
// (sweep/ledger.h), and a cell's config already holds its own axis values.
std::string training_identity(const RunConfig& config);

// Help text listing every key, its default and its meaning.
std::string config_help();

// Throws UsageError "config key KEY = VALUE is invalid: RULE", the one form of a bad value.
[[noreturn]] void reject_config_value(const std::string& key, const std::string& value,
                                      const std::string& rule);
inline void require_config_value(bool ok, const std::string& key, const std::string& value,
                                 const std::string& rule) {
  if (!ok) reject_config_value(key, value, rule);
}

// Splits a sweep list on spaces and commas.
std::vector<std::string> split_list(const std::string& list);

}  // namespace journey
