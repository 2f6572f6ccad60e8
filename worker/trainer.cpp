#include "worker/trainer.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/log.h"
#include "data/batch_loader.h"
#include "data/dataset.h"
#include "io/atomic_file.h"
#include "io/checkpoint_dir.h"
#include "io/whole_file.h"
#include "schedules/lr_schedule.h"
#include "schedules/run_plan.h"
#include "worker/adamw.h"
#include "worker/matmul_peak.h"
#include "worker/pruner.h"
#include "worker/run_checkpoint.h"
#include "worker/sharded_model.h"

namespace journey {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Rank r's share [first, first + count) of a global batch of n sequences.
struct Share {
  int64_t first = 0, count = 0;
};
Share share_of(int64_t n, int rank, int ranks) {
  const int64_t first = rank * n / ranks;
  return {first, (rank + 1) * n / ranks - first};
}

std::string format_duration(double seconds) {
  char buf[32];
  const int64_t s = static_cast<int64_t>(seconds);
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

// Splits [b, s + 1] token rows into inputs and shifted targets.
struct Batch {
  at::Tensor inputs, targets;
};
Batch to_batch(std::vector<int64_t>& tokens, int64_t rows, int64_t seq_len) {
  at::Tensor all = at::from_blob(tokens.data(), {rows, seq_len + 1}, at::kLong);
  return {all.narrow(1, 0, seq_len), all.narrow(1, 1, seq_len)};
}

}  // namespace

const char* status_name(RunStatus status) {
  switch (status) {
    case RunStatus::kDone:
      return "done";
    case RunStatus::kDiverged:
      return "diverged";
    case RunStatus::kPreempted:
      return "preempted";
  }
  return "unknown";
}

Trainer::Trainer(const RunConfig& config, const Dataset& dataset, Collectives& group,
                 TrainerOptions options)
    : config_(config), dataset_(dataset), group_(group), options_(std::move(options)) {}

TrainResult Trainer::run() {
  const Clock::time_point process_start = Clock::now();
  const bool leader = group_.rank() == 0;
  const ModelConfig& m = config_.model;
  const RunPlan plan = make_plan(config_);
  const LrSchedule lr_schedule(config_.train, plan.total_steps);
  const std::string checkpoint_dir = options_.out_dir + "/checkpoints";
  if (leader) std::filesystem::create_directories(checkpoint_dir);

  ShardedModel model(m, config_.data.vocab_size, group_);
  Pruner pruner(model, config_.prune.scope == PruneScope::kLayer);
  AdamW optimizer(config_.train);
  BatchLoader loader(dataset_.train(), m.seq_len, plan.sequences_per_step,
                     static_cast<uint64_t>(config_.train.seed));
  if (plan.sequences_per_step < group_.size()) {
    throw UsageError(
        "config key train.batch_tokens = " + std::to_string(config_.train.batch_tokens) +
        " gives " + std::to_string(plan.sequences_per_step) +
        " sequences per step, fewer than "
        "the group's " +
        std::to_string(group_.size()) +
        " ranks: every rank needs at least one sequence; raise train.batch_tokens "
        "or use a smaller group");
  }
  const Share share = share_of(plan.sequences_per_step, group_.rank(), group_.size());

  // Start fresh or resume. Every rank checks the same files, so all decide alike.
  CheckpointMeta meta;
  meta.cell_id = options_.cell_id;
  meta.tokenizer_hash = dataset_.tokenizer_hash();
  meta.config_ini = to_ini(config_);
  const std::string tokenizer_model = read_file_or_empty(dataset_.tokenizer_model_path());
  meta.tokenizer_model.assign(tokenizer_model.begin(), tokenizer_model.end());
  MetricsHistory history;
  int64_t start_step = 0;
  std::optional<CheckpointEntry> latest;
  if (options_.resume) latest = latest_valid(checkpoint_dir);
  if (latest) {
    CheckpointMeta stored =
        load_checkpoint(model, latest->path, config_, meta.tokenizer_hash, &history);
    start_step = stored.step;
    if (start_step > plan.total_steps) {
      throw DataError("checkpoint " + latest->path + " is at step " + std::to_string(start_step) +
                      ", beyond this run's " + std::to_string(plan.total_steps) + " steps");
    }
    optimizer.set_steps_taken(stored.adam_steps);
    if (leader) log::info("resumed " + options_.cell_id + " from " + latest->path);
  } else {
    model.initialize(static_cast<uint64_t>(config_.train.seed));
  }
  if (leader) write_file_atomically(options_.out_dir + "/config.ini", meta.config_ini);

  const double peak_flops = matmul_peak_flops() * group_.size();
  const double elapsed_before = history.steps.empty() ? 0.0 : history.steps.back().elapsed_s;
  int64_t active = pruner.active_count();
  TrainResult result;
  result.total_steps = plan.total_steps;

  auto save = [&](int64_t next_step) {
    meta.step = next_step;
    meta.tokens_seen = next_step * plan.tokens_per_step;
    meta.adam_steps = optimizer.steps_taken();
    meta.keep = static_cast<double>(active) / plan.params.prunable;
    save_checkpoint(model, meta, history, checkpoint_path(checkpoint_dir, next_step));
    if (leader) {
      history.write_csv(options_.out_dir);
      prune_old(checkpoint_dir, config_.train.keep_checkpoints);
    }
  };

  auto evaluate = [&]() {
    c10::AutoGradMode no_grad(false);
    std::vector<int64_t> tokens =
        validation_sequences(dataset_.val(), m.seq_len, config_.train.eval_sequences);
    const Share part = share_of(config_.train.eval_sequences, group_.rank(), group_.size());
    std::vector<int64_t> mine(tokens.begin() + part.first * (m.seq_len + 1),
                              tokens.begin() + (part.first + part.count) * (m.seq_len + 1));
    Batch batch = to_batch(mine, part.count, m.seq_len);
    double sums[2] = {model.loss_sum(batch.inputs, batch.targets),
                      static_cast<double>(part.count * m.seq_len)};
    group_.all_reduce_sum(sums, 2, ElementType::kFloat64);
    return sums[0] / sums[1];
  };

  // Checkpoints hold finite weights only: a run whose weights overflowed is diverged, and
  // its last checkpoint stays the last good state.
  auto weights_finite = [&]() {
    c10::AutoGradMode no_grad(false);
    int64_t bad = 0;
    for (auto& unit : model.units()) bad |= !unit->weights().isfinite().all().item<bool>();
    group_.all_reduce_max(&bad, 1, ElementType::kInt64);
    return bad == 0;
  };
  auto diverge = [&](const std::string& what, int64_t step) {
    result.status = RunStatus::kDiverged;
    result.reason = what + " step " + std::to_string(step) + "; nothing written after it";
  };

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> log_file(nullptr, &std::fclose);
  if (leader && options_.print_progress && !options_.log_path.empty()) {
    log_file.reset(std::fopen(options_.log_path.c_str(), "a"));
    if (!log_file) throw DataError("cannot append to " + options_.log_path);
  }
  std::FILE* progress = log_file ? log_file.get() : stdout;
  std::vector<int64_t> tokens(static_cast<size_t>(share.count * (m.seq_len + 1)));
  double tokens_per_s_sum = 0.0, steps_s = 0.0, pruning_s = 0.0;
  int64_t steps_here = 0;
  const double collectives_before = group_.stats().seconds;
  for (int64_t step = start_step; step < plan.total_steps; ++step) {
    // 1. Preemption: stop together at a step boundary, with a checkpoint.
    int64_t stop = options_.stop_requested && options_.stop_requested() ? 1 : 0;
    group_.all_reduce_max(&stop, 1, ElementType::kInt64);
    if (stop) {
      if (!weights_finite()) {
        diverge("non-finite weights after", step - 1);
        break;
      }
      save(step);
      result.status = RunStatus::kPreempted;
      result.reason = "stopped at step " + std::to_string(step) + " by a signal";
      break;
    }
    const Clock::time_point step_start = Clock::now();

    // 2. Pruning happens before this step's update.
    if (const PruneEvent* event = plan.schedule.event_at(step)) {
      const Clock::time_point prune_start = Clock::now();
      active = pruner.prune(event->keep);
      pruning_s += seconds_since(prune_start);
    }

    // 3-4. This rank's sequences, forward and backward.
    loader.fill(step, share.first, share.count, tokens.data());
    Batch batch = to_batch(tokens, share.count, m.seq_len);
    const double weight = static_cast<double>(share.count) / plan.sequences_per_step;
    double loss = model.forward_backward(batch.inputs, batch.targets, weight) * weight;
    group_.all_reduce_sum(&loss, 1, ElementType::kFloat64);
    if (!std::isfinite(loss)) {
      diverge("non-finite loss at", step);
      break;
    }

    // 5. Update, unless the gradients overflowed.
    const double lr = lr_schedule.at(step);
    const double grad_norm = optimizer.mask_gradients(model);
    if (!std::isfinite(grad_norm)) {
      diverge("non-finite gradient norm at", step);
      break;
    }
    optimizer.update(model, lr, grad_norm);

    // 6. Metrics.
    const double step_s = seconds_since(step_start);
    StepRecord r;
    r.step = step;
    r.loss = loss;
    r.lr = lr;
    r.grad_norm = grad_norm;
    r.active = active;
    r.density = static_cast<double>(active) / plan.params.prunable;
    r.tokens = (step + 1) * plan.tokens_per_step;
    r.flops = step_flops(m, active, plan.tokens_per_step);
    r.tokens_per_s = plan.tokens_per_step / step_s;
    r.mfu = step_flops(m, plan.params.prunable, plan.tokens_per_step) / step_s / peak_flops;
    r.epoch = loader.epochs_after(step + 1);
    r.elapsed_s = elapsed_before + seconds_since(process_start);
    history.steps.push_back(r);
    tokens_per_s_sum += r.tokens_per_s;
    steps_s += step_s;
    ++steps_here;
    if (leader && options_.on_step) options_.on_step(r);
    if (leader && options_.print_progress &&
        ((step + 1) % config_.train.log_every == 0 || step + 1 == plan.total_steps)) {
      const double eta =
          (plan.total_steps - step - 1) * (seconds_since(process_start) / steps_here);
      std::fprintf(progress,
                   "%s step %lld/%lld | loss %.4f | lr %.2e | density %.3f | %.1fk tok/s | "
                   "MFU %.0f%% | ETA %s\n",
                   options_.cell_id.c_str(), static_cast<long long>(step + 1),
                   static_cast<long long>(plan.total_steps), loss, lr, r.density,
                   r.tokens_per_s / 1000, 100 * r.mfu, format_duration(eta).c_str());
      std::fflush(progress);
    }

    // 7. Evaluation and checkpoints.
    const int64_t done = step + 1;
    if (config_.train.eval_every > 0 && done % config_.train.eval_every == 0 &&
        done < plan.total_steps) {
      history.evals.push_back({done, evaluate()});
    }
    if (config_.train.checkpoint_every > 0 && done % config_.train.checkpoint_every == 0 &&
        done < plan.total_steps) {
      if (!weights_finite()) {
        diverge("non-finite weights after", step);
        break;
      }
      save(done);
    }
  }

  // A run resumed from its final checkpoint has nothing left to do or write.
  if (result.status == RunStatus::kDone && start_step < plan.total_steps) {
    if (weights_finite()) {
      history.evals.push_back({plan.total_steps, evaluate()});
      save(plan.total_steps);
    } else {
      diverge("non-finite weights after", plan.total_steps - 1);
    }
  }
  result.steps_done = history.steps.empty() ? 0 : history.steps.back().step + 1;
  result.tokens = result.steps_done * plan.tokens_per_step;
  result.initial_active = plan.params.prunable;
  result.embedding_params = plan.params.embedding;
  result.final_active = pruner.active_count();
  result.mean_active = history.mean_active();
  for (const StepRecord& r : history.steps) result.compute += 6.0 * r.active * plan.tokens_per_step;
  result.final_loss = history.steps.empty() ? 0.0 : history.steps.back().loss;
  result.final_eval_loss = history.evals.empty() ? 0.0 : history.evals.back().loss;
  result.wall_s = seconds_since(process_start);
  if (steps_here > 0) {
    result.tokens_per_s = tokens_per_s_sum / steps_here;
  } else if (!history.steps.empty()) {  // Resumed at the end: the earlier attempts' speed.
    for (const StepRecord& r : history.steps) result.tokens_per_s += r.tokens_per_s;
    result.tokens_per_s /= static_cast<double>(history.steps.size());
  }
  std::vector<int64_t> alive = pruner.active_per_param();
  size_t i = 0;
  for (const ParamSpec& p : model.spec().params) {
    if (!p.prunable) continue;
    result.param_names.push_back(p.name);
    result.param_final_sparsity.push_back(1.0 - static_cast<double>(alive[i++]) / p.numel());
  }

  // Where the time and memory went, for the benchmarks (BENCHMARKS.md, "FSDP groups"):
  // collective time includes waiting for the slowest rank; RSS is each rank's peak.
  const double collectives_s = group_.stats().seconds - collectives_before;
  std::vector<double> peak_rss_mb(group_.size());
  {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const double mine = usage.ru_maxrss / 1024.0;
    group_.all_gather(&mine, peak_rss_mb.data(), 1, ElementType::kFloat64);
  }
  int64_t shard_bytes = 0;
  for (auto& unit : model.units()) {
    shard_bytes += unit->shard_numel() * (4 * sizeof(float) + 1);  // w, grad, m, v; mask
  }

  // A finished run started again trains nothing; its summary (with the timings of the
  // attempts that trained) stays as it is.
  const bool finished_before =
      steps_here == 0 && std::filesystem::exists(options_.out_dir + "/summary.json");
  if (leader && !finished_before) {
    history.write_csv(options_.out_dir);
    nlohmann::json summary = {
        {"cell_id", options_.cell_id},
        {"status", status_name(result.status)},
        {"reason", result.reason},
        {"steps_done", result.steps_done},
        {"total_steps", result.total_steps},
        {"tokens", result.tokens},
        {"n_initial", result.initial_active},
        {"n_final", result.final_active},
        {"n_avg", result.mean_active},
        {"n_avg_predicted", plan.mean_active},
        {"embedding_params", result.embedding_params},
        {"compute", result.compute},
        {"final_loss", result.final_loss},
        {"final_eval_loss", result.final_eval_loss},
        {"tokens_per_s", result.tokens_per_s},
        {"group_size", group_.size()},
        {"seconds", {{"steps", steps_s}, {"collectives", collectives_s}, {"pruning", pruning_s}}},
        {"peak_rss_mb_per_rank", peak_rss_mb},
        {"sharded_state_mb_per_rank", shard_bytes / 1048576.0},
    };
    for (size_t j = 0; j < result.param_names.size(); ++j) {
      summary["final_sparsity"][result.param_names[j]] = result.param_final_sparsity[j];
    }
    write_file_atomically(options_.out_dir + "/summary.json", summary.dump(2) + "\n");
  }
  return result;
}

}  // namespace journey
