#include "common/config.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include <boost/program_options.hpp>
#include <charconv>
#include <filesystem>
#include <functional>
#include <sstream>

#include "common/error.h"
#include "common/named_values.h"
#include "common/program_options_error.h"
#include "common/pruning_schedules.h"
#include "common/sweep_axes.h"

namespace po = boost::program_options;

namespace journey {
namespace {

// The names of the enumerated keys (common/named_values.h); prune.schedule's are
// common/pruning_schedules.h's.
constexpr NamedValue<PhaseUnits> kPhaseUnitsNames[] = {
    {"compute", PhaseUnits::kCompute},
    {"steps", PhaseUnits::kSteps},
};
constexpr NamedValue<PruneScope> kScopeNames[] = {
    {"global", PruneScope::kGlobal},
    {"layer", PruneScope::kLayer},
};
constexpr NamedValue<DeviceKind> kDeviceNames[] = {
    {"auto", DeviceKind::kAuto},
    {"cpu", DeviceKind::kCpu},
    {"cuda", DeviceKind::kCuda},
};
constexpr NamedValue<Precision> kPrecisionNames[] = {
    {"fp32", Precision::kFp32},
    {"bf16", Precision::kBf16},
};
constexpr NamedValue<ModelFamily> kFamilyNames[] = {
    {"llama", ModelFamily::kLlama},
    {"parallel", ModelFamily::kParallel},
};

// The value `text` names in `table`; otherwise UsageError naming the key and the names.
template <class Table>
auto parse_named(const Table& table, const std::string& key, const std::string& text) {
  if (auto value = value_named(table, text)) return *value;
  reject_config_value(key, text, "must be " + names_of(table));
}

// One config key: its name, help, and how to bind and print it. The table below is the
// single list of keys; parse, print and help all walk it.
struct Key {
  std::string name;
  std::string help;
  std::function<void(po::options_description&, RunConfig&)> bind;
  std::function<std::string(const RunConfig&)> print;
};

std::string format_value(int64_t v) {
  return std::to_string(v);
}
std::string format_value(const std::string& v) {
  return v;
}
std::string format_value(bool v) {
  return v ? "true" : "false";
}
std::string format_value(ScheduleKind v) {
  return schedule_name(v);
}
std::string format_value(PhaseUnits v) {
  return phase_units_name(v);
}
std::string format_value(PruneScope v) {
  return scope_name(v);
}
std::string format_value(DeviceKind v) {
  return device_name(v);
}
std::string format_value(Precision v) {
  return precision_name(v);
}
std::string format_value(ModelFamily v) {
  return family_name(v);
}
std::string format_value(double v) {
  // Shortest text that parses back to the same double, so to_ini() round-trips exactly.
  char buf[32];
  auto result = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, result.ptr);
}

// Parses an enumerated key's text; throws UsageError naming the key and the allowed names.
template <class E>
E parse_enum(const std::string& key, const std::string& text);
template <>
ScheduleKind parse_enum(const std::string& key, const std::string& text) {
  return parse_schedule_kind(key, text);
}
template <>
PhaseUnits parse_enum(const std::string& key, const std::string& text) {
  return parse_named(kPhaseUnitsNames, key, text);
}
template <>
PruneScope parse_enum(const std::string& key, const std::string& text) {
  return parse_named(kScopeNames, key, text);
}
template <>
DeviceKind parse_enum(const std::string& key, const std::string& text) {
  return parse_named(kDeviceNames, key, text);
}
template <>
Precision parse_enum(const std::string& key, const std::string& text) {
  return parse_named(kPrecisionNames, key, text);
}
template <>
ModelFamily parse_enum(const std::string& key, const std::string& text) {
  return parse_named(kFamilyNames, key, text);
}

template <class T, class Get>
Key make_key(std::string name, Get get, std::string help) {
  Key key;
  key.name = name;
  key.help = help;
  key.bind = [name, get, help](po::options_description& desc, RunConfig& config) {
    T& field = get(config);
    if constexpr (std::is_enum_v<T>) {
      // Read as text, then parsed into the enum once, here.
      auto* value = po::value<std::string>()
                        ->default_value(format_value(field))
                        ->notifier([name, &field](const std::string& text) {
                          field = parse_enum<T>(name, text);
                        });
      desc.add_options()(name.c_str(), value, help.c_str());
    } else {
      auto* value = po::value<T>(&field)->default_value(field);
      if constexpr (std::is_same_v<T, double>) {
        // Boost reads "inf" as a number; no key of a run means anything at infinity.
        value->notifier([name](double v) {
          if (!std::isfinite(v)) {
            throw UsageError("config key " + name + " = " + format_value(v) +
                             " is invalid: must be a finite number");
          }
        });
      }
      desc.add_options()(name.c_str(), value, help.c_str());
    }
  };
  key.print = [get](const RunConfig& config) {
    return format_value(get(const_cast<RunConfig&>(config)));
  };
  return key;
}

#define JOURNEY_KEY(TYPE, SECTION, FIELD, HELP) \
  make_key<TYPE>(                               \
      #SECTION "." #FIELD, [](RunConfig& c) -> TYPE& { return c.SECTION.FIELD; }, HELP)

const std::vector<Key>& keys() {
  static const std::vector<Key> table = {
      JOURNEY_KEY(int64_t, model, d_model, "model width"),
      JOURNEY_KEY(int64_t, model, n_layers, "transformer blocks"),
      JOURNEY_KEY(int64_t, model, n_heads, "attention heads; must divide d_model"),
      JOURNEY_KEY(int64_t, model, ffn_dim, "SwiGLU hidden width; 0 means 4*d_model"),
      JOURNEY_KEY(int64_t, model, seq_len, "tokens per training sequence"),
      JOURNEY_KEY(double, model, rope_base, "RoPE frequency base"),
      JOURNEY_KEY(double, model, norm_eps, "RMSNorm epsilon"),
      JOURNEY_KEY(ModelFamily, model, family,
                  "llama (sequential blocks) or parallel (attention and MLP on one input)"),
      JOURNEY_KEY(int64_t, train, tokens, "total training tokens; 0 means tokens_per_param*N"),
      JOURNEY_KEY(double, train, tokens_per_param, "tokens per dense parameter"),
      JOURNEY_KEY(int64_t, train, batch_tokens, "global batch in tokens (multiple of seq_len)"),
      JOURNEY_KEY(double, train, lr, "peak learning rate"),
      JOURNEY_KEY(double, train, warmup_frac, "linear warm-up, fraction of steps"),
      JOURNEY_KEY(double, train, final_lr_frac, "cosine decays to this fraction of peak"),
      JOURNEY_KEY(double, train, weight_decay, "AdamW decoupled weight decay"),
      JOURNEY_KEY(double, train, beta1, "AdamW beta1"),
      JOURNEY_KEY(double, train, beta2, "AdamW beta2"),
      JOURNEY_KEY(double, train, adam_eps, "AdamW epsilon"),
      JOURNEY_KEY(double, train, clip, "global gradient-norm clip; 0 disables"),
      JOURNEY_KEY(int64_t, train, seed, "seed for initialisation and data order"),
      JOURNEY_KEY(int64_t, train, eval_every, "steps between evals; 0 means at the end only"),
      JOURNEY_KEY(int64_t, train, eval_sequences, "validation sequences per eval"),
      JOURNEY_KEY(int64_t, train, checkpoint_every, "steps between checkpoints; 0 means none"),
      JOURNEY_KEY(int64_t, train, keep_checkpoints, "checkpoints kept per run"),
      JOURNEY_KEY(int64_t, train, log_every, "steps between progress lines"),
      JOURNEY_KEY(int64_t, train, threads, "threads per rank; 0 means cores/ranks"),
      JOURNEY_KEY(DeviceKind, train, device, "auto (a GPU when there is one), cpu or cuda"),
      JOURNEY_KEY(Precision, train, precision,
                  "fp32, or bf16 matmuls on bf16 weight copies (fp32 weights, optimizer, loss)"),
      JOURNEY_KEY(int64_t, train, micro_batch_tokens,
                  "tokens per forward/backward on a rank, gradients accumulated; 0 = all"),
      JOURNEY_KEY(bool, train, activation_checkpointing,
                  "recompute each block's activations in backward (less memory)"),
      JOURNEY_KEY(bool, train, fsdp_prefetch,
                  "overlap FSDP all-gathers and reduce-scatters with computation"),
      JOURNEY_KEY(double, train, collective_timeout_s,
                  "seconds one collective may wait before the group ends; 0 = forever"),
      JOURNEY_KEY(std::string, train, collectives,
                  "collectives backend: auto (nccl on GPUs, else mpi), mpi or nccl"),
      JOURNEY_KEY(ScheduleKind, prune, schedule, "geometric or cubic"),
      JOURNEY_KEY(double, prune, sparsity, "final sparsity S in [0, 1)"),
      JOURNEY_KEY(double, prune, dense_frac, "c_s: dense phase, fraction of compute or steps"),
      JOURNEY_KEY(double, prune, prune_end_frac, "c_e: pruning ends here (fraction)"),
      JOURNEY_KEY(PhaseUnits, prune, phase_units, "compute (the paper) or steps"),
      JOURNEY_KEY(int64_t, prune, start_step, "explicit t_s (with end_step); -1 means unset"),
      JOURNEY_KEY(int64_t, prune, end_step, "explicit t_e; -1 means unset"),
      JOURNEY_KEY(int64_t, prune, interval, "Delta: steps between pruning events; 0 means auto"),
      JOURNEY_KEY(PruneScope, prune, scope, "global (one threshold) or layer"),
      JOURNEY_KEY(std::string, prune, exclude,
                  "matrices never pruned: name patterns such as '*.wq head' (global scope)"),
      JOURNEY_KEY(std::string, data, dir, "dataset directory made by `journey prepare`"),
      JOURNEY_KEY(std::string, data, sources, "prepare input: default, or files and dirs"),
      JOURNEY_KEY(int64_t, data, vocab_size, "tokenizer vocabulary size"),
      JOURNEY_KEY(double, data, val_fraction, "share of documents held out for validation"),
      JOURNEY_KEY(std::string, sweep, sizes, "model sizes DxLxH, e.g. '128x2x4 256x4x4'"),
      JOURNEY_KEY(std::string, sweep, sparsities, "sparsities, e.g. '0 0.5 0.8'"),
      JOURNEY_KEY(std::string, sweep, phases, "c_s:c_e pairs, e.g. '0.25:0.75'"),
      JOURNEY_KEY(std::string, sweep, tokens_per_param, "durations, e.g. '10 20'"),
      JOURNEY_KEY(std::string, sweep, schedules, "geometric and/or cubic"),
      JOURNEY_KEY(std::string, sweep, seeds, "seeds, e.g. '0 1'"),
      JOURNEY_KEY(std::string, sweep, lr,
                  "per-size peak lr, '48x2x2:3e-3 96x2x4:2e-3', or a rule in the dense "
                  "prunable parameters N, '0.3*N^-0.35'"),
      JOURNEY_KEY(std::string, sweep, lrs,
                  "lr as a grid axis, each rate its own cells: '1e-3 3e-3' for every size, or "
                  "per size '48x2x2:6e-3,1.2e-2 96x2x4:3e-3,6e-3'; not with sweep.lr; the "
                  "final fit keeps each size's best rate (journey fit --select best-lr)"),
      JOURNEY_KEY(std::string, sweep, batch_tokens,
                  "per-size global batch in tokens, '48x2x2:2048 96x2x4:4096'"),
      JOURNEY_KEY(int64_t, sweep, group_size, "ranks per worker group"),
      JOURNEY_KEY(bool, sweep, matched_dense,
                  "add, per sparse cell, a dense cell of its N-bar on the same tokens"),
  };
  return table;
}

#undef JOURNEY_KEY

po::options_description describe(RunConfig& config) {
  po::options_description desc(
      "Config keys (file sections [model], [train], ... or --section.key)");
  for (const Key& key : keys()) key.bind(desc, config);
  return desc;
}

// A config is a few kilobytes; anything far larger (or a device such as /dev/zero, which
// never ends) is a mistake, refused before it is read.
constexpr std::uintmax_t kMaxConfigBytes = 1 << 20;

void check_config_file(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    throw UsageError("config file " + path + ": cannot be read (it does not exist)");
  }
  if (!std::filesystem::is_regular_file(status)) {
    throw UsageError("config file " + path + ": not a regular file");
  }
  const std::uintmax_t bytes = std::filesystem::file_size(path, ec);
  if (!ec && bytes > kMaxConfigBytes) {
    throw UsageError("config file " + path + " is " + std::to_string(bytes) +
                     " bytes; a config is at most " + std::to_string(kMaxConfigBytes) + " bytes");
  }
}

constexpr int64_t kMaxSeqLen = int64_t{1} << 20;
constexpr int64_t kMaxThreads = 1024;
constexpr int64_t kMaxGroupSize = int64_t{1} << 20;

template <class T>
std::string show(const T& v) {
  return format_value(v);
}

}  // namespace

const char* schedule_name(ScheduleKind kind) {
  return kind == ScheduleKind::kDense ? "dense" : pruning_schedule(kind).name;
}

const char* phase_units_name(PhaseUnits units) {
  return name_of(kPhaseUnitsNames, units);
}

const char* scope_name(PruneScope scope) {
  return name_of(kScopeNames, scope);
}

const char* device_name(DeviceKind device) {
  return name_of(kDeviceNames, device);
}

const char* precision_name(Precision precision) {
  return name_of(kPrecisionNames, precision);
}

const char* family_name(ModelFamily family) {
  return name_of(kFamilyNames, family);
}

ScheduleKind parse_schedule_kind(const std::string& key, const std::string& text) {
  for (const PruningSchedule& s : pruning_schedules()) {
    if (text == s.name) return s.kind;
  }
  reject_config_value(key, text, "must be " + pruning_schedule_names());
}

void reject_config_value(const std::string& key, const std::string& value,
                         const std::string& rule) {
  throw UsageError("config key " + key + " = " + value + " is invalid: " + rule);
}

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> items;
  std::string current;
  for (char ch : list) {
    if (ch == ' ' || ch == ',' || ch == '\t') {
      if (!current.empty()) items.push_back(current);
      current.clear();
    } else {
      current += ch;
    }
  }
  if (!current.empty()) items.push_back(current);
  return items;
}

namespace {

// " (did you mean '--train.lr'?)" when `e` is an unknown key near a key of `desc`, else "".
std::string suggest_key(po::error& e, const po::options_description& desc, const char* dashes) {
  auto* unknown = dynamic_cast<po::unknown_option*>(&e);
  return unknown ? did_you_mean_option(unknown->get_option_name(), desc, dashes) : "";
}

}  // namespace

RunConfig parse_config(const std::string& config_path, const std::vector<std::string>& overrides) {
  RunConfig config;
  po::options_description desc = describe(config);
  po::variables_map vm;
  try {
    // The command line is stored first: Program_options keeps the first value it sees.
    po::store(po::command_line_parser(overrides).options(desc).run(), vm);
  } catch (po::error& e) {
    const std::string suggestion = suggest_key(e, desc, "--");
    throw UsageError(std::string("command line: ") + program_options_error_text(e) +
                     (suggestion.empty()
                          ? " (config keys are --section.key=value; see `journey config --help`)"
                          : suggestion));
  }
  if (!config_path.empty()) {
    check_config_file(config_path);
    try {
      po::store(po::parse_config_file<char>(config_path.c_str(), desc, false), vm);
    } catch (const po::reading_file&) {
      throw UsageError("config file " + config_path + ": cannot be read");
    } catch (po::error& e) {
      throw UsageError("config file " + config_path + ": " + program_options_error_text(e) +
                       suggest_key(e, desc, ""));
    }
  }
  try {
    po::notify(vm);
  } catch (po::error& e) {
    throw UsageError(std::string("config: ") + program_options_error_text(e));
  }
  return config;
}

RunConfig parse_config_text(const std::string& ini, const std::string& origin) {
  RunConfig config;
  po::options_description desc = describe(config);
  po::variables_map vm;
  std::istringstream in(ini);
  try {
    po::store(po::parse_config_file(in, desc, false), vm);
    po::notify(vm);
  } catch (po::error& e) {
    throw UsageError(origin + ": " + program_options_error_text(e) + suggest_key(e, desc, ""));
  }
  return config;
}

void validate(const RunConfig& c) {
  const ModelConfig& m = c.model;
  // Upper bounds far beyond any model this runs, so that typos fail here rather than as an
  // allocation failure or an overflow later.
  require_config_value(m.d_model > 0 && m.d_model <= kMaxWidth, "model.d_model", show(m.d_model),
                       "must be in [1, " + show(kMaxWidth) + "]");
  require_config_value(m.n_layers > 0 && m.n_layers <= kMaxLayers, "model.n_layers",
                       show(m.n_layers), "must be in [1, " + show(kMaxLayers) + "]");
  require_config_value(m.n_heads > 0, "model.n_heads", show(m.n_heads), "must be positive");
  require_config_value(m.d_model % m.n_heads == 0, "model.n_heads", show(m.n_heads),
                       "must divide model.d_model = " + show(m.d_model));
  require_config_value(m.head_dim() % 2 == 0, "model.n_heads", show(m.n_heads),
                       "head size d_model/n_heads must be even for RoPE's half-split rotation");
  require_config_value(m.ffn_dim >= 0 && m.ffn_dim <= 4 * kMaxWidth, "model.ffn_dim",
                       show(m.ffn_dim),
                       "must be 0 (4*d_model) or in [1, " + show(4 * kMaxWidth) + "]");
  require_config_value(m.seq_len > 0 && m.seq_len <= kMaxSeqLen, "model.seq_len", show(m.seq_len),
                       "must be in [1, " + show(kMaxSeqLen) + "]");
  require_config_value(m.rope_base > 1.0, "model.rope_base", show(m.rope_base),
                       "must be greater than 1");
  require_config_value(m.norm_eps > 0.0, "model.norm_eps", show(m.norm_eps), "must be positive");

  const TrainConfig& t = c.train;
  require_config_value(t.tokens >= 0, "train.tokens", show(t.tokens),
                       "must be 0 (use tokens_per_param) or positive");
  require_config_value(t.tokens > 0 || t.tokens_per_param > 0.0, "train.tokens_per_param",
                       show(t.tokens_per_param), "must be positive when train.tokens is 0");
  require_config_value(t.batch_tokens > 0, "train.batch_tokens", show(t.batch_tokens),
                       "must be positive");
  require_config_value(t.batch_tokens % m.seq_len == 0, "train.batch_tokens", show(t.batch_tokens),
                       "must be a multiple of model.seq_len = " + show(m.seq_len));
  require_config_value(t.micro_batch_tokens >= 0 && t.micro_batch_tokens % m.seq_len == 0,
                       "train.micro_batch_tokens", show(t.micro_batch_tokens),
                       "must be 0 (the whole batch at once) or a positive multiple of "
                       "model.seq_len = " +
                           show(m.seq_len));
  require_config_value(t.collective_timeout_s >= 0.0, "train.collective_timeout_s",
                       show(t.collective_timeout_s),
                       "must be 0 (wait forever) or a positive number of seconds");
  require_config_value(t.lr > 0.0, "train.lr", show(t.lr), "must be positive");
  require_config_value(t.warmup_frac >= 0.0 && t.warmup_frac < 1.0, "train.warmup_frac",
                       show(t.warmup_frac), "must be in [0, 1)");
  require_config_value(t.final_lr_frac >= 0.0 && t.final_lr_frac <= 1.0, "train.final_lr_frac",
                       show(t.final_lr_frac), "must be in [0, 1]");
  require_config_value(t.weight_decay >= 0.0, "train.weight_decay", show(t.weight_decay),
                       "must be >= 0");
  require_config_value(t.beta1 >= 0.0 && t.beta1 < 1.0, "train.beta1", show(t.beta1),
                       "must be in [0, 1)");
  require_config_value(t.beta2 >= 0.0 && t.beta2 < 1.0, "train.beta2", show(t.beta2),
                       "must be in [0, 1)");
  require_config_value(t.adam_eps > 0.0, "train.adam_eps", show(t.adam_eps), "must be positive");
  require_config_value(t.clip >= 0.0, "train.clip", show(t.clip),
                       "must be >= 0 (0 disables clipping)");
  require_config_value(t.eval_every >= 0, "train.eval_every", show(t.eval_every), "must be >= 0");
  require_config_value(t.eval_sequences > 0, "train.eval_sequences", show(t.eval_sequences),
                       "must be positive");
  require_config_value(t.checkpoint_every >= 0, "train.checkpoint_every", show(t.checkpoint_every),
                       "must be >= 0");
  require_config_value(t.keep_checkpoints >= 1, "train.keep_checkpoints", show(t.keep_checkpoints),
                       "must be at least 1");
  require_config_value(t.log_every >= 1, "train.log_every", show(t.log_every),
                       "must be at least 1");
  require_config_value(t.threads >= 0 && t.threads <= kMaxThreads, "train.threads", show(t.threads),
                       "must be in [0, " + show(kMaxThreads) + "] (0 means auto)");

  const PruneConfig& p = c.prune;
  check_sparsity("prune.sparsity", p.sparsity, show(p.sparsity));
  require_config_value(p.dense_frac >= 0.0 && p.dense_frac <= 1.0, "prune.dense_frac",
                       show(p.dense_frac), "must be in [0, 1]");
  require_config_value(
      p.prune_end_frac > p.dense_frac, "prune.prune_end_frac", show(p.prune_end_frac),
      "pruning must end after it starts: prune_end_frac > dense_frac = " + show(p.dense_frac));
  require_config_value(p.prune_end_frac <= 1.0, "prune.prune_end_frac", show(p.prune_end_frac),
                       "dense and pruning fractions must sum to at most 1 (prune_end_frac <= 1)");
  const bool start_set = p.start_step >= 0, end_set = p.end_step >= 0;
  require_config_value(start_set || !end_set, "prune.end_step", show(p.end_step),
                       "prune.start_step and prune.end_step must be given together (or both -1)");
  require_config_value(end_set || !start_set, "prune.start_step", show(p.start_step),
                       "prune.start_step and prune.end_step must be given together (or both -1)");
  if (p.start_step >= 0) {
    require_config_value(p.end_step >= p.start_step, "prune.end_step", show(p.end_step),
                         "must be at or after prune.start_step = " + show(p.start_step));
  }
  require_config_value(p.interval >= 0, "prune.interval", show(p.interval),
                       "must be >= 0 (0 means auto)");
  require_config_value(p.exclude.empty() || p.scope == PruneScope::kGlobal, "prune.exclude",
                       p.exclude, "needs prune.scope = global (one threshold over the rest)");

  const DataConfig& d = c.data;
  require_config_value(!d.dir.empty(), "data.dir", "''", "must name a dataset directory");
  require_config_value(
      d.vocab_size >= 320 && d.vocab_size <= 65535, "data.vocab_size", show(d.vocab_size),
      "must be in [320, 65535] (259 byte-fallback and special pieces plus the text's "
      "characters; tokens are uint16)");
  require_config_value(d.val_fraction > 0.0 && d.val_fraction < 0.5, "data.val_fraction",
                       show(d.val_fraction), "must be in (0, 0.5)");

  const SweepConfig& s = c.sweep;
  const SweepAxes axes = parse_sweep_axes(s);  // Throws UsageError naming the bad entry.
  for (const auto& [size, batch] : axes.batch_tokens_by_size) {
    require_config_value(batch % m.seq_len == 0, "sweep.batch_tokens", size + ":" + show(batch),
                         "must be a multiple of model.seq_len = " + show(m.seq_len));
  }
  // Several rates of a size are told apart by its dense loss (journey fit --select best-lr).
  bool several_rates = axes.lrs.size() > 1;
  for (const auto& [size, rates] : axes.lrs_by_size) several_rates |= rates.size() > 1;
  if (several_rates) {
    const bool dense_cells = axes.sparsities.empty()
                                 ? p.sparsity == 0.0
                                 : std::find(axes.sparsities.begin(), axes.sparsities.end(), 0.0) !=
                                       axes.sparsities.end();
    require_config_value(dense_cells, "sweep.lrs", s.lrs,
                         "several rates need dense cells (0 in sweep.sparsities): the sweep "
                         "keeps each size's rate with the lowest dense loss");
  }
  require_config_value(s.group_size >= 1 && s.group_size <= kMaxGroupSize, "sweep.group_size",
                       show(s.group_size), "must be in [1, " + show(kMaxGroupSize) + "]");
}

std::string to_ini(const RunConfig& config) {
  std::ostringstream out;
  std::string section;
  for (const Key& key : keys()) {
    auto dot = key.name.find('.');
    std::string this_section = key.name.substr(0, dot);
    if (this_section != section) {
      out << (section.empty() ? "" : "\n") << "[" << this_section << "]\n";
      section = this_section;
    }
    out << key.name.substr(dot + 1) << " = " << key.print(config) << "\n";
  }
  return out.str();
}

std::string result_identity(const RunConfig& config) {
  RunConfig c = config;
  const RunConfig defaults;
  c.train.threads = defaults.train.threads;
  c.train.device = defaults.train.device;  // Where is operational; precision is not.
  c.train.micro_batch_tokens = defaults.train.micro_batch_tokens;  // Memory only.
  c.train.activation_checkpointing = defaults.train.activation_checkpointing;
  c.train.fsdp_prefetch = defaults.train.fsdp_prefetch;  // Speed only: the same operations.
  c.train.collective_timeout_s = defaults.train.collective_timeout_s;  // Failure handling.
  c.train.collectives = defaults.train.collectives;  // How, not what: sums agree to rounding.
  c.train.log_every = defaults.train.log_every;
  c.train.eval_every = defaults.train.eval_every;
  c.train.checkpoint_every = defaults.train.checkpoint_every;
  c.train.keep_checkpoints = defaults.train.keep_checkpoints;
  c.data.dir = defaults.data.dir;
  c.data.sources = defaults.data.sources;
  c.sweep.group_size = defaults.sweep.group_size;
  return to_ini(c);
}

std::string training_identity(const RunConfig& config) {
  RunConfig c = config;
  c.train.eval_sequences = RunConfig().train.eval_sequences;
  c.sweep = RunConfig().sweep;  // A cell's config holds its own axis values already.
  return result_identity(c);
}

std::string config_help() {
  RunConfig defaults;
  std::ostringstream out;
  out << describe(defaults);
  return out.str();
}

}  // namespace journey
