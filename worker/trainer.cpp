#include "worker/trainer.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <utility>

#include "common/collective_deadline.h"
#include "common/error.h"
#include "common/log.h"
#include "data/batch_loader.h"
#include "data/dataset.h"
#include "io/atomic_file.h"
#include "io/checkpoint_dir.h"
#include "io/whole_file.h"
#include "run/run_files.h"
#include "run/tensorboard_events.h"
#include "schedules/lr_schedule.h"
#include "schedules/run_plan.h"
#include "worker/adamw.h"
#include "worker/matmul_peak.h"
#include "worker/progress_reporter.h"
#include "worker/pruner.h"
#include "worker/run_checkpoint.h"
#include "worker/run_costs.h"
#include "worker/scoring.h"
#include "worker/sharded_model.h"

namespace journey {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// 128 random bits as hex: names a run across its attempts (CheckpointMeta::run_id).
std::string new_run_id() {
  std::random_device random;
  char text[33];
  std::snprintf(text, sizeof text, "%08x%08x%08x%08x", random(), random(), random(), random());
  return text;
}

// Whether `path` is a summary.json of a finished run (status "done"); false for a missing,
// unreadable or other one.
bool summary_says_done(const std::string& path) {
  const nlohmann::json summary = nlohmann::json::parse(read_file_or_empty(path), nullptr, false);
  return summary.is_object() && summary.contains("status") && summary["status"] == "done";
}

// One call of Trainer::run: the model, optimizer, data and records of the run, and the
// pieces of a step. Every rank holds one; only the leader (group rank 0) writes files.
class Run {
 public:
  Run(const RunConfig& config, const Dataset& dataset, Collectives& group,
      const TrainerOptions& options)
      : config_(config),
        dataset_(dataset),
        group_(group),
        options_(options),
        leader_(group.rank() == 0),
        plan_(make_plan(config)),
        lr_schedule_(config.train, plan_.total_steps),
        checkpoint_dir_(options.out_dir + "/checkpoints"),
        model_(config.model, config.data.vocab_size, group, options.device, config.train.precision),
        pruner_(model_, config.prune.scope == PruneScope::kLayer, config.prune.exclude),
        optimizer_(config.train),
        loader_(dataset.train(), config.model.seq_len, plan_.sequences_per_step,
                static_cast<uint64_t>(config.train.seed)),
        // Read now, so that a validation shard too small for train.eval_sequences stops the
        // run before step 0 rather than after its last step.
        validation_windows_(validation_sequences(dataset.val(), config.model.seq_len,
                                                 config.train.eval_sequences)) {
    if (plan_.sequences_per_step < group_.size()) {
      throw UsageError(
          "config key train.batch_tokens = " + std::to_string(config_.train.batch_tokens) +
          " gives " + std::to_string(plan_.sequences_per_step) +
          " sequences per step, fewer than the group's " + std::to_string(group_.size()) +
          " ranks: every rank needs at least one sequence; raise "
          "train.batch_tokens or use a smaller group");
    }
    share_ = row_share(plan_.sequences_per_step, group_.rank(), group_.size());
    // train.micro_batch_tokens: as many micro-batches on every rank as the largest share
    // needs (the collectives of each must match across the group).
    micro_batches_ =
        micro_batch_count((plan_.sequences_per_step + group_.size() - 1) / group_.size(),
                          config.train.micro_batch_tokens, config.model.seq_len);
    model_.set_activation_checkpointing(config.train.activation_checkpointing);
    model_.set_prefetch(config.train.fsdp_prefetch);
    tokens_.resize(static_cast<size_t>(share_.count * (config.model.seq_len + 1)));
    leader_writes([&] { prepare_directory(); });
    if (leader_) {
      for (const std::string& w : plan_.warnings) log::warn(options.cell_id + ": " + w);
    }
  }

  const RunPlan& plan() const { return plan_; }

  // The leader's housekeeping before anything is read: a fresh start moves the previous run
  // aside (it is never deleted), and temporaries of checkpoint writes that were killed are
  // removed (the caller holds the directory's lock, so no writer is alive).
  void prepare_directory() {
    if (!options_.resume) {
      const std::string aside = set_aside_previous_run(options_.out_dir);
      if (!aside.empty()) log::info("starting afresh; the previous run is kept in " + aside);
    }
    std::filesystem::create_directories(checkpoint_dir_);
    for (const std::string& path : remove_stale_temporaries(checkpoint_dir_)) {
      log::info("removed " + path + ", left by a checkpoint write that did not finish");
    }
  }

  // Every rank chose its checkpoint itself. One that could not read the newest (a transient
  // I/O error on its node) would load another step's rows than the others: silently mixed
  // shards. So all must have chosen the same; DataError listing each rank's choice if not.
  // `listing_error`: this rank could not list the directory at all (it chose nothing).
  void require_same_choice(const std::optional<CheckpointEntry>& latest,
                           const std::string& listing_error) {
    std::vector<double> steps(static_cast<size_t>(group_.size()), 0.0);
    steps[static_cast<size_t>(group_.rank())] = !listing_error.empty() ? -2
                                                : latest ? static_cast<double>(latest->step)
                                                         : -1;
    group_.all_reduce_sum(steps.data(), steps.size(), ElementType::kFloat64);
    if (!listing_error.empty()) throw DataError(listing_error);
    if (std::all_of(steps.begin(), steps.end(), [&](double s) { return s == steps[0]; })) return;
    std::string choices;
    for (size_t r = 0; r < steps.size(); ++r) {
      choices += (r == 0 ? "" : ", ") + std::string("rank ") + std::to_string(r) + ": " +
                 (steps[r] == -2 ? "could not list it"
                  : steps[r] < 0 ? "none"
                                 : "step " + std::to_string(static_cast<int64_t>(steps[r])));
    }
    throw DataError("the ranks of this group found different newest valid checkpoints in " +
                    checkpoint_dir_ + " (" + choices +
                    "): a rank could not read a newer one (its log says why); run again");
  }

  // Restores the newest valid checkpoint (when resuming) or initialises the weights; writes
  // the effective config. Returns the first step to train. Every rank checks the same files,
  // and the group makes sure all decided alike.
  int64_t resume_or_initialize() {
    meta_.cell_id = options_.cell_id;
    meta_.run_id = new_run_id();
    meta_.tokenizer_hash = dataset_.tokenizer_hash();
    meta_.data_fingerprint = dataset_.fingerprint();
    meta_.config_ini = to_ini(config_);
    const std::string tokenizer_model = read_file_or_empty(dataset_.tokenizer_model_path());
    meta_.tokenizer_model.assign(tokenizer_model.begin(), tokenizer_model.end());
    int64_t start_step = 0;
    std::optional<CheckpointEntry> latest;
    std::vector<CheckpointEntry> invalid;  // Newer than `latest`, which training will reach.
    if (options_.resume) {
      std::string listing_error;  // Thrown after the agreement: the others must not wait.
      try {
        latest = latest_valid(checkpoint_dir_, &invalid);
      } catch (const DataError& e) {
        listing_error = e.what();
      }
      require_same_choice(latest, listing_error);
    }
    if (latest) {
      const CheckpointMeta stored = load_checkpoint(
          model_, latest->path, config_, meta_.tokenizer_hash, &history_, meta_.data_fingerprint);
      start_step = stored.step;
      if (!stored.run_id.empty()) meta_.run_id = stored.run_id;
      if (start_step > plan_.total_steps) {
        throw DataError("checkpoint " + latest->path + " is at step " + std::to_string(start_step) +
                        ", beyond this run's " + std::to_string(plan_.total_steps) + " steps");
      }
      optimizer_.set_steps_taken(stored.adam_steps);
      if (leader_) log::info("resumed " + options_.cell_id + " from " + latest->path);
    } else {
      model_.initialize(static_cast<uint64_t>(config_.train.seed));
    }
    // Every rank has chosen (require_same_choice), so no rename below can change a choice.
    // A rename that fails stops the group at its first step, before any checkpoint.
    leader_writes([&] {
      for (const CheckpointEntry& entry : invalid) {
        const std::string aside = set_aside_invalid(entry);
        if (!aside.empty()) {
          log::warn("kept the invalid checkpoint " + entry.path + " as " + aside +
                    ", out of this run's way");
        }
      }
    });
    leader_writes(
        [&] { write_file_atomically(options_.out_dir + "/config.ini", meta_.config_ini); });
    for (const ParamSpec& p : model_.spec().params) {
      if (!p.prunable) continue;
      history_.matrix_names.push_back(p.name);
      history_.matrix_sizes.push_back(p.numel());
    }
    active_ = pruner_.active_count();
    leader_writes([&] { events_.emplace(options_.out_dir, start_step); });
    say_alive();
    return start_step;
  }

  // Wall time of the run before this process started (its earlier attempts).
  double elapsed_before() const {
    return history_.steps.empty() ? 0.0 : history_.steps.back().elapsed_s;
  }

  // Whether any rank of the group was asked to stop (preemption). Throws DataError on every
  // rank together when the leader failed to write the run's records (leader_writes).
  bool stop_agreed() {
    int64_t flags[2] = {options_.stop_requested && options_.stop_requested() ? 1 : 0,
                        leader_error_.empty() ? 0 : 1};
    group_.all_reduce_max(flags, 2, ElementType::kInt64);
    if (flags[1] != 0) throw_leader_error();
    return flags[0] != 0;
  }

  // The leader's own files (metrics, TensorBoard events, progress, config.ini, pruning of old
  // checkpoints): a failure there (a full disk) must not take the leader out of the group's
  // next collective while the others wait in it for the collective timeout. It is kept, and
  // the whole group stops at the next stop_agreed() (or the leader at the end of the run).
  template <typename Write>
  void leader_writes(Write&& write) {
    if (!leader_ || !leader_error_.empty()) return;
    try {
      write();
    } catch (const std::exception& e) {
      leader_error_ = e.what();
      log::error(options_.cell_id + ": " + leader_error_ +
                 " (the group stops at its next step, or at the end of the run)");
    }
  }

  // Collective: the group learns whether the leader's writes failed since the last step, and
  // every rank throws if so (after the last step, where stop_agreed() no longer runs).
  void agree_on_leader_writes() {
    int64_t failed = leader_error_.empty() ? 0 : 1;
    group_.all_reduce_max(&failed, 1, ElementType::kInt64);
    if (failed != 0) throw_leader_error();
  }

  void say_alive() const {
    if (leader_ && options_.on_alive) options_.on_alive();
  }

  [[noreturn]] void throw_leader_error() const {
    throw DataError(leader_ ? "writing the run's records failed: " + leader_error_
                            : "the group's leader (rank 0) could not write the run's records "
                              "(its log says why)");
  }

  // Applies the schedule's pruning event at `step`, if there is one (before its update).
  // Returns the seconds it took.
  double prune_if_due(int64_t step) {
    const PruneEvent* event = plan_.schedule.event_at(step);
    if (event == nullptr) return 0.0;
    const Clock::time_point start = Clock::now();
    active_ = pruner_.prune(event->keep);
    history_.prunes.push_back({step, pruner_.active_per_param()});
    return seconds_since(start);
  }

  // This rank's share of step `step`'s batch, forward and backward, then the masked and
  // clipped AdamW update with learning rate `lr`, all queued on the device. Returns the mean
  // loss over the global batch and the global gradient norm before clipping (the same on
  // every rank), read once the step's work is done. A step whose loss or norm is not finite
  // is not applied (the weights and moments stay as they were).
  std::pair<double, double> train_step(int64_t step, double lr) {
    const int64_t seq_len = config_.model.seq_len;
    loader_.fill(step, share_.first, share_.count, tokens_.data());
    const WindowBatch batch = window_batch(tokens_, share_.count, seq_len);
    const double weight = static_cast<double>(share_.count) / plan_.sequences_per_step;
    at::Tensor loss =
        model_.forward_backward_queued(batch.inputs, batch.targets, weight, micro_batches_)
            .to(at::kDouble)
            .mul_(weight);
    if (group_.size() > 1) group_.all_reduce_sum(loss.data_ptr(), 1, ElementType::kFloat64);
    const at::Tensor grad_norm = optimizer_.mask_gradients(model_);
    optimizer_.update(model_, lr, grad_norm,
                      loss.isfinite().logical_and(grad_norm.isfinite()).logical_not());
    return {loss.item<double>(), grad_norm.item<double>()};
  }

  double lr_at(int64_t step) const { return lr_schedule_.at(step); }

  // The step's record, appended to the history.
  const StepRecord& record(int64_t step, double loss, double lr, double grad_norm, double step_s,
                           double elapsed_s) {
    const ModelConfig& m = config_.model;
    StepRecord r;
    r.step = step;
    r.loss = loss;
    r.lr = lr;
    r.grad_norm = grad_norm;
    r.active = active_;
    r.density = static_cast<double>(active_) / plan_.params.prunable;
    r.tokens = (step + 1) * plan_.tokens_per_step;
    r.flops = step_flops(m, active_, plan_.tokens_per_step);
    r.tokens_per_s = plan_.tokens_per_step / step_s;
    r.mfu = step_flops(m, plan_.params.prunable, plan_.tokens_per_step) / step_s / peak_flops_;
    r.epoch = loader_.epochs_after(step + 1);
    r.elapsed_s = elapsed_s;
    history_.steps.push_back(r);
    leader_writes([&] {
      if (events_) events_->add_step(r);
    });
    return history_.steps.back();
  }

  // The validation loss every train.eval_every steps (the final one is the finish's).
  void evaluate_if_due(int64_t steps_done) {
    const int64_t every = config_.train.eval_every;
    if (every > 0 && steps_done % every == 0 && steps_done < plan_.total_steps) {
      evaluate(steps_done);
    }
  }

  // A checkpoint every train.checkpoint_every steps (the final one is the finish's), of
  // finite weights only. False when the weights are not finite: the run has diverged.
  bool checkpoint_if_due(int64_t steps_done) {
    const int64_t every = config_.train.checkpoint_every;
    if (every <= 0 || steps_done % every != 0 || steps_done >= plan_.total_steps) return true;
    if (!weights_finite()) return false;
    checkpoint(steps_done);
    return true;
  }

  void evaluate(int64_t steps_done) {
    history_.evals.push_back(
        {steps_done, validation_loss(model_, validation_windows_, config_.train.eval_sequences)});
    leader_writes([&] {
      if (events_) events_->add_eval(history_.evals.back());
    });
    say_alive();
  }

  // Checkpoints hold finite weights only: a run whose weights overflowed is diverged, and
  // its last checkpoint stays the last good state. Collective.
  bool weights_finite() {
    c10::AutoGradMode no_grad(false);
    int64_t bad = 0;
    for (auto& unit : model_.units()) bad |= !unit->weights().isfinite().all().item<bool>();
    group_.all_reduce_max(&bad, 1, ElementType::kInt64);
    return bad == 0;
  }

  // Collective: a checkpoint from which training continues at `next_step`.
  void checkpoint(int64_t next_step) {
    const std::string path = checkpoint_path(checkpoint_dir_, next_step);
    // Something other than a file under this checkpoint's name (a directory someone made)
    // would fail the write at every attempt, so the run could never pass this step: skip this
    // checkpoint with a warning; the next one has another name. The leader's view decides.
    std::error_code ec;
    int64_t occupied = leader_ &&
                       std::filesystem::exists(std::filesystem::symlink_status(path, ec)) &&
                       !std::filesystem::is_regular_file(path, ec);
    group_.all_reduce_max(&occupied, 1, ElementType::kInt64);
    if (occupied != 0) {
      if (leader_) {
        log::warn(options_.cell_id + ": not writing checkpoint " + path +
                  ": something that is not a checkpoint file has its name (remove it)");
      }
      return;
    }
    meta_.step = next_step;
    meta_.tokens_seen = next_step * plan_.tokens_per_step;
    meta_.adam_steps = optimizer_.steps_taken();
    meta_.keep = static_cast<double>(active_) / plan_.params.prunable;
    {
      // A stop does not cut the others' wait for the leader's write (common/collective_deadline.h).
      const CheckpointWrite writing;
      save_checkpoint(model_, meta_, history_, path);
    }
    leader_writes([&] {
      history_.write_csv(options_.out_dir);
      prune_old(checkpoint_dir_, config_.train.keep_checkpoints, meta_.run_id);
    });
    say_alive();
  }

  // The run's summary from its history; `wall_s` and `tokens_per_s` describe this attempt.
  RunSummary summarize(RunStatus status, const std::string& reason, double wall_s,
                       double tokens_per_s) {
    RunSummary s;
    s.cell_id = options_.cell_id;
    s.status = status;
    s.reason = reason;
    s.steps_done = history_.steps.empty() ? 0 : history_.steps.back().step + 1;
    s.total_steps = plan_.total_steps;
    s.tokens = s.steps_done * plan_.tokens_per_step;
    s.n_initial = plan_.params.prunable;
    s.n_final = pruner_.active_count();
    s.n_avg = history_.mean_active();
    s.n_avg_predicted = plan_.mean_active;
    s.embedding_params = plan_.params.embedding;
    for (const StepRecord& r : history_.steps) s.compute += 6.0 * r.active * plan_.tokens_per_step;
    if (!history_.steps.empty()) s.final_loss = history_.steps.back().loss;
    if (status == RunStatus::kDone && !history_.evals.empty()) {
      s.final_eval_loss = history_.evals.back().loss;
    }
    s.wall_s = wall_s;
    s.tokens_per_s = tokens_per_s;
    if (tokens_per_s == 0 && !history_.steps.empty()) {  // Resumed at the end: earlier speed.
      for (const StepRecord& r : history_.steps) s.tokens_per_s += r.tokens_per_s;
      s.tokens_per_s /= static_cast<double>(history_.steps.size());
    }
    s.group_size = group_.size();
    return s;
  }

  RunCosts costs(double steps_s, double collectives_s, double pruning_s) {
    return measure_run_costs(model_, pruner_, steps_s, collectives_s, pruning_s);
  }

  void write_csv() { history_.write_csv(options_.out_dir); }

 private:
  const RunConfig& config_;
  const Dataset& dataset_;
  Collectives& group_;
  const TrainerOptions& options_;
  const bool leader_;
  std::string leader_error_;  // The leader's first failed write (leader_writes), if any.
  const RunPlan plan_;
  const LrSchedule lr_schedule_;
  const std::string checkpoint_dir_;
  ShardedModel model_;
  Pruner pruner_;
  AdamW optimizer_;
  BatchLoader loader_;
  const std::vector<int64_t> validation_windows_;
  RowShare share_;
  int64_t micro_batches_ = 1;
  std::vector<int64_t> tokens_;  // This rank's batch rows.
  CheckpointMeta meta_;
  MetricsHistory history_;
  std::optional<TensorBoardEvents> events_;  // The leader's, from the first step.
  int64_t active_ = 0;                       // N_t in force.
  // MFU's denominator: the measured matmul peak of the device in the dtype the matmuls use.
  const double peak_flops_ =
      matmul_peak_flops(options_.device, config_.train.precision == Precision::kBf16
                                             ? c10::ScalarType::BFloat16
                                             : c10::ScalarType::Float) *
      group_.size();
};

}  // namespace

Trainer::Trainer(const RunConfig& config, const Dataset& dataset, Collectives& group,
                 TrainerOptions options)
    : config_(config), dataset_(dataset), group_(group), options_(std::move(options)) {}

RunSummary Trainer::run() {
  // Setup.
  const Clock::time_point process_start = Clock::now();
  const bool leader = group_.rank() == 0;
  Run run(config_, dataset_, group_, options_);
  const int64_t total_steps = run.plan().total_steps;
  const int64_t start_step = run.resume_or_initialize();
  const double elapsed_before = run.elapsed_before();
  std::optional<ProgressReporter> progress;
  run.leader_writes([&] {
    progress.emplace(options_.cell_id, options_.out_dir, options_.log_path, options_.print_progress,
                     total_steps, config_.train.log_every);
  });
  RunStatus status = RunStatus::kDone;
  std::string reason;
  auto diverge = [&](const std::string& what, int64_t step) {
    status = RunStatus::kDiverged;
    reason = what + " step " + std::to_string(step) + "; nothing written after it";
  };
  double tokens_per_s_sum = 0.0, steps_s = 0.0, pruning_s = 0.0;
  int64_t steps_here = 0;
  const double collectives_before = group_.stats().seconds;

  // The loop. Divergence stops it with a reason naming the step: a non-finite loss or
  // gradient norm (the step's update is not applied), or non-finite
  // weights when a checkpoint is due (it is not written).
  for (int64_t step = start_step; step < total_steps; ++step) {
    // 1. Preemption: stop together at a step boundary, with a checkpoint.
    if (run.stop_agreed()) {
      if (!run.weights_finite()) {
        diverge("non-finite weights after", step - 1);
        break;
      }
      run.checkpoint(step);
      status = RunStatus::kPreempted;
      reason = "stopped at step " + std::to_string(step) + " by a signal";
      break;
    }
    const Clock::time_point step_start = Clock::now();
    // 2. Pruning happens before this step's update.
    pruning_s += run.prune_if_due(step);
    // 3-5. This rank's sequences, forward and backward, masked and clipped AdamW update,
    // unless the loss or the gradients overflowed.
    const double lr = run.lr_at(step);
    const auto [loss, grad_norm] = run.train_step(step, lr);
    if (!std::isfinite(loss)) {
      diverge("non-finite loss at", step);
      break;
    }
    if (!std::isfinite(grad_norm)) {
      diverge("non-finite gradient norm at", step);
      break;
    }
    // 6. Metrics.
    const double step_s = seconds_since(step_start);
    const StepRecord& r = run.record(step, loss, lr, grad_norm, step_s,
                                     elapsed_before + seconds_since(process_start));
    tokens_per_s_sum += r.tokens_per_s;
    steps_s += step_s;
    ++steps_here;
    if (leader) {
      const double eta_s = (total_steps - step - 1) * (seconds_since(process_start) / steps_here);
      const RunProgress now{options_.cell_id, step + 1,       total_steps, r.loss, r.lr,
                            r.density,        r.tokens_per_s, r.mfu,       eta_s};
      if (options_.on_progress) options_.on_progress(now);
      run.leader_writes([&] { progress->after_step(now); });
    }
    // 7. Evaluation and checkpoints, when due.
    run.evaluate_if_due(step + 1);
    if (!run.checkpoint_if_due(step + 1)) {
      diverge("non-finite weights after", step);
      break;
    }
  }

  // Finish: the final evaluation and checkpoint (a run resumed from its final checkpoint has
  // nothing left to do or write), then the summary.
  if (status == RunStatus::kDone && start_step < total_steps) {
    if (run.weights_finite()) {
      run.evaluate(total_steps);
      run.checkpoint(total_steps);
    } else {
      diverge("non-finite weights after", total_steps - 1);
    }
  }
  const RunSummary summary = run.summarize(status, reason, seconds_since(process_start),
                                           steps_here > 0 ? tokens_per_s_sum / steps_here : 0.0);
  const RunCosts costs = run.costs(steps_s, group_.stats().seconds - collectives_before, pruning_s);
  // A finished run started again trains nothing; its summary (with the timings of the
  // attempts that trained) stays as it is, when it says so: an attempt killed between its
  // final checkpoint and its summary left the summary of an earlier, preempted attempt.
  const bool finished_before =
      steps_here == 0 && summary_says_done(options_.out_dir + "/summary.json");
  run.agree_on_leader_writes();
  if (leader && !finished_before) {
    run.write_csv();
    write_file_atomically(options_.out_dir + "/summary.json", summary_json_text(summary, costs));
  }
  return summary;
}

}  // namespace journey
