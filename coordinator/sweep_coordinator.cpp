#include "coordinator/sweep_coordinator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>

#include "common/duration_text.h"
#include "common/error.h"
#include "common/executables.h"
#include "common/exit_codes.h"
#include "common/log.h"
#include "common/stop_signal.h"
#include "coordinator/messages.h"
#include "io/atomic_file.h"
#include "io/symlink_check.h"
#include "run/run_progress.h"
#include "run/run_summary.h"
#include "sweep/ledger.h"
#include "sweep/results_table.h"

namespace journey {
namespace {

using Clock = std::chrono::steady_clock;

// Live state of the groups for the progress line.
struct GroupState {
  std::string cell;  // Empty when idle.
  double tokens_per_s = 0;
  int64_t step = 0;
  int64_t first_step = -1;  // The step of its first progress (a resumed cell starts late).
  int64_t total_steps = 0;
  Clock::time_point heard;  // Its assignment, or its last message since.
};

class Coordinator {
 public:
  Coordinator(const Communicator& world, const SweepLayout& layout, const RunConfig& base,
              const std::vector<Cell>& cells, const SweepOptions& options)
      : world_(world),
        layout_(layout),
        options_(options),
        ledger_(Ledger::open_or_create(options.out_dir, options.identity, cells)),
        groups_(layout.num_groups()),
        silent_groups_(layout.num_groups(), false),
        silence_limit_s_(base.train.collective_timeout_s) {
    for (const Cell& cell : cells) configs_[cell.id] = to_ini(cell.config);
    // sweep.ini is this launch's config; a directory grown over several grids says so.
    int earlier = 0;
    for (const CellRecord& r : ledger_.records()) earlier += configs_.count(r.id) == 0;
    const std::string note =
        earlier == 0 ? ""
                     : "# The grid of the latest launch. This directory also holds " +
                           std::to_string(earlier) +
                           " cell(s) of earlier grids; ledger.json and results.csv list every "
                           "cell.\n";
    write_file_atomically(options.out_dir + "/sweep.ini", note + to_ini(base));
  }

  int run() {
    build_queue();
    ledger_.save();
    write_results(ledger_);
    start_ = Clock::now();
    for (int g = 0; g < layout_.num_groups(); ++g) assign_next(g);
    // A line every 15 s and at every finished cell. (No carriage-return redraws: mpirun
    // gives ranks a pseudo-terminal even when its own output goes to a file.)
    const auto line_interval = std::chrono::seconds(15);
    Clock::time_point last_line = Clock::now();
    while (busy_groups() > 0) {
      excuse_own_pauses();
      if (!stopping_ && stop_requested()) begin_stop("stop signal received");
      if (auto message = poll_message(world_.handle())) {
        handle(*message);
      } else {
        // Judged only with no message waiting: a late look at the queue is not silence.
        give_up_on_silent_groups();
        idle_pause();
      }
      if (Clock::now() - last_line > line_interval || cells_ended_ != cells_shown_) {
        print_progress_line();
        last_line = Clock::now();
        cells_shown_ = cells_ended_;
      }
    }
    for (int g = 0; g < layout_.num_groups(); ++g) {
      if (silent_groups_[g]) continue;
      send_message(world_.handle(), layout_.leader_of(g), kTagShutdown, nlohmann::json::object());
    }
    print_summary();
    if (std::count(silent_groups_.begin(), silent_groups_.end(), true) > 0) {
      // Its ranks may be stuck where nothing but an abort reaches them (MPI_Finalize would
      // wait for them): end the launch as preempted, so that a Slurm job requeues and the
      // same command resumes the cells from their checkpoints.
      std::printf(
          "sweep incomplete: a group stopped answering (above); its cell resumes from its "
          "newest checkpoint when the same command runs again (exit %d)\n",
          exit_code::kPreempted);
      std::fflush(stdout);
      world_.abort(exit_code::kPreempted);
    }
    if (stopping_) {
      std::printf(
          "sweep preempted: every running cell checkpointed; run the same command "
          "again to resume (exit %d)\n",
          exit_code::kPreempted);
      return exit_code::kPreempted;
    }
    run_analysis();
    const bool all_done =
        ledger_.count(CellStatus::kFailed) + ledger_.count(CellStatus::kDiverged) == 0;
    return all_done ? exit_code::kOk : exit_code::kFailure;
  }

 private:
  int busy_groups() const {
    int n = 0;
    for (const GroupState& g : groups_) n += !g.cell.empty();
    return n;
  }

  // Cells still to run, most expensive first so the last ones to finish are short.
  void build_queue() {
    std::vector<CellRecord*> todo;
    for (CellRecord& r : ledger_.records()) {
      if (configs_.count(r.id) == 0) continue;  // Not in this config's grid.
      if (r.status == CellStatus::kFailed && options_.retry_failed) {
        // A failure is often passing (a full disk, a lost node): the retry resumes from the
        // newest valid checkpoint, and the cell's train.log keeps the failed attempt's lines.
        log::info("retrying " + r.id + " (failed: " + r.reason + ")");
        r.status = CellStatus::kPending;
        r.reason.clear();
      }
      if (r.status == CellStatus::kPending || r.status == CellStatus::kPreempted) {
        todo.push_back(&r);
      }
    }
    std::stable_sort(todo.begin(), todo.end(), [](const CellRecord* a, const CellRecord* b) {
      return a->estimated_flops > b->estimated_flops;
    });
    for (CellRecord* r : todo) queue_.push_back(r->id);
  }

  void assign_next(int group) {
    if (stopping_ || queue_.empty() || silent_groups_[group]) return;
    const std::string id = queue_.front();
    queue_.pop_front();
    CellRecord& r = ledger_.at(id);
    const std::string link = link_in_cell_directory(id);
    if (!link.empty()) {
      r.status = CellStatus::kFailed;
      r.reason = link;
      ledger_.save();
      log::warn("cell " + id + " failed: " + link);
      assign_next(group);
      return;
    }
    r.status = CellStatus::kRunning;
    r.attempts += 1;
    r.group = group;
    r.group_size = layout_.group_size();
    groups_[group] = GroupState{};
    groups_[group].cell = id;
    groups_[group].heard = Clock::now();
    ledger_.save();
    send_message(world_.handle(), layout_.leader_of(group), kTagAssign,
                 {{"cell_id", id},
                  {"config", configs_.at(id)},
                  {"out_dir", cell_dir(options_.out_dir, id)},
                  {"resume", true}});
  }

  // A symbolic link made in a cell's directory since the sweep started (start-up refused any
  // then) would have the cell write through it: the cell fails with the reason instead. Only
  // the cell's own directory is walked: the other groups' files change as it runs.
  std::string link_in_cell_directory(const std::string& id) const {
    try {
      refuse_symlinks_under(options_.out_dir, cell_dir(options_.out_dir, id), "cell " + id);
    } catch (const UsageError& e) {
      return e.what();
    }
    return "";
  }

  void handle(const Message& m) {
    const int group = layout_.group_of(m.source);
    const std::string origin = "message from rank " + std::to_string(m.source);
    if (silent_groups_[group]) return;  // Given up on: its cell is preempted already.
    groups_[group].heard = Clock::now();
    if (m.tag == kTagProgress) {
      const RunProgress p = progress_from_json(m.body, "progress " + origin);
      GroupState& g = groups_[group];
      if (g.first_step < 0) g.first_step = p.step;
      g.step = p.step;
      g.total_steps = p.total_steps;
      g.tokens_per_s = p.tokens_per_s;
      return;
    }
    if (m.tag != kTagDone) return;
    const RunSummary summary = RunSummary::from_json(m.body, "done " + origin);
    CellRecord& r = ledger_.at(summary.cell_id);
    r.status = summary.status == RunStatus::kDone        ? CellStatus::kDone
               : summary.status == RunStatus::kPreempted ? CellStatus::kPreempted
               : summary.status == RunStatus::kDiverged  ? CellStatus::kDiverged
                                                         : CellStatus::kFailed;
    r.reason = summary.reason;
    r.run = summary;
    r.wall_s += summary.wall_s;
    busy_s_ += summary.wall_s;
    groups_[group] = GroupState{};
    ++cells_ended_;
    if (r.status == CellStatus::kDone) flops_done_here_ += r.estimated_flops;
    ledger_.save();
    write_results(ledger_);
    if (is_unsuccessful(r.status)) {
      log::warn("cell " + r.id + " " + cell_status_name(r.status) + ": " + r.reason);
    } else if (r.status == CellStatus::kDone) {
      char loss[64];
      std::snprintf(loss, sizeof loss, "eval loss %.4f (train %.4f)", summary.final_eval_loss,
                    summary.final_loss);
      log::info("cell " + r.id + " done: " + loss + " after " + duration_text(summary.wall_s) +
                " on group " + std::to_string(group));
    }
    // A worker that was signalled directly (srun signals every task) stopped on its own:
    // the whole sweep is being preempted.
    if (r.status == CellStatus::kPreempted && !stopping_) begin_stop("a worker was preempted");
    assign_next(group);
  }

  // A busy group that sent nothing for twice train.collective_timeout_s (its leader reports
  // after every step and after loading, evaluating and checkpointing; the timeout bounds one
  // collective wait, twice it any phase between reports) has a rank that died or hangs where
  // its peers' collective deadline cannot see it (a group of one rank, or a leader that died
  // between cells): its cell goes back to preempted, the group gets no more cells, and the
  // others go on. Without this the sweep would wait for it until the job's time limit.
  void give_up_on_silent_groups() {
    if (!(silence_limit_s_ > 0)) return;
    const Clock::time_point now = Clock::now();
    for (int g = 0; g < layout_.num_groups(); ++g) {
      GroupState& state = groups_[g];
      if (state.cell.empty()) continue;
      const double silent_s = std::chrono::duration<double>(now - state.heard).count();
      if (silent_s < 2 * silence_limit_s_) continue;
      CellRecord& r = ledger_.at(state.cell);
      r.status = CellStatus::kPreempted;
      r.reason = "group " + std::to_string(g) + " (leader rank " +
                 std::to_string(layout_.leader_of(g)) + ") sent nothing for " +
                 duration_text(silent_s) +
                 " (twice train.collective_timeout_s): a rank has likely died or hung; the cell "
                 "resumes from its newest checkpoint when the sweep runs again";
      log::error("cell " + r.id + ": " + r.reason);
      silent_groups_[g] = true;
      state = GroupState{};
      ++cells_ended_;
      ledger_.save();
      write_results(ledger_);
    }
  }

  // When this process itself was not running for a while (the job suspended, a stalled
  // filesystem under a ledger save), the groups' silence meanwhile is not theirs.
  void excuse_own_pauses() {
    const Clock::time_point now = Clock::now();
    if (now - last_loop_ > std::chrono::seconds(10)) {
      for (GroupState& state : groups_) state.heard = std::max(state.heard, now);
    }
    last_loop_ = now;
  }

  void begin_stop(const std::string& why) {
    stopping_ = true;
    log::info(why + ": asking every group to checkpoint and stop");
    for (int g = 0; g < layout_.num_groups(); ++g) {
      if (!groups_[g].cell.empty()) {
        send_message(world_.handle(), layout_.leader_of(g), kTagStop, nlohmann::json::object());
      }
    }
  }

  void print_progress_line() {
    double tokens_per_s = 0, left_flops = 0;
    for (const GroupState& g : groups_) tokens_per_s += g.tokens_per_s;
    for (const CellRecord& r : ledger_.records()) {
      if (r.status != CellStatus::kDone) left_flops += r.estimated_flops;
    }
    // The ETA is the dry run's cost model (each cell's estimated FLOPs) at the rate this
    // process has achieved: the cells it finished plus the steps its running cells trained
    // here, so the estimate moves smoothly instead of jumping as each cell ends. After a
    // resume, work done in earlier sittings took none of this sitting's time.
    double done_here = flops_done_here_;
    for (const GroupState& g : groups_) {
      if (g.cell.empty() || g.total_steps <= 0 || g.first_step < 0) continue;
      const double flops = ledger_.at(g.cell).estimated_flops;
      done_here += flops * static_cast<double>(g.step - g.first_step) / g.total_steps;
      left_flops -= flops * static_cast<double>(g.step) / g.total_steps;
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const double eta = done_here > 0 ? elapsed * left_flops / done_here : -1;
    std::printf(
        "[sweep] done %d/%zu | running %d | failed %d | %.1fk tok/s | elapsed %s | "
        "ETA %s\n",
        ledger_.count(CellStatus::kDone), ledger_.records().size(), busy_groups(),
        ledger_.count(CellStatus::kFailed) + ledger_.count(CellStatus::kDiverged),
        tokens_per_s / 1000, duration_text(elapsed).c_str(), duration_text(eta).c_str());
    std::fflush(stdout);
  }

  // The scaling-law fit and the report, run as `journey fit DIR` and `journey report DIR` by
  // the torch-free binary beside this one. They only read the results, so a failure there
  // is reported but does not change the sweep's exit code.
  void run_analysis() const {
    std::vector<const char*> commands{"report"};
    if (ledger_.count(CellStatus::kDone) >= 6) {
      commands.insert(commands.begin(), "fit");
    } else {
      std::printf("fit skipped: the law needs at least 6 finished cells\n");
    }
    // Several rates of a size (sweep.lrs): the law is fitted on each size's best rate, by the
    // fit and by the report, which would otherwise refit all rates together.
    const std::vector<std::string> several = sizes_with_several_rates(ledger_);
    for (const char* command : commands) {
      std::vector<std::string> argv{sibling_executable("journey"), command, options_.out_dir};
      if (!several.empty()) argv.insert(argv.end(), {"--select", "best-lr"});
      if (std::string(command) == "fit" && !several.empty()) {
        std::string sizes;
        for (const std::string& size : several) sizes += (sizes.empty() ? "" : ", ") + size;
        std::printf(
            "fit: %s trained at several learning rates; the law is fitted on each size's best "
            "rate, the one with the lowest dense loss (journey fit %s --select best-lr; "
            "fit.json's notes say which rate each size kept)\n",
            sizes.c_str(), options_.out_dir.c_str());
      }
      std::fflush(stdout);
      const int code = run_and_wait(argv);
      if (code != 0) {
        std::string shown = "journey";
        for (size_t i = 1; i < argv.size(); ++i) shown += " " + argv[i];
        log::warn(shown + " exited with " + std::to_string(code) +
                  "; rerun it by hand once the problem is fixed");
      }
    }
  }

  void print_summary() const {
    std::printf("\n%-46s %-9s %9s %12s %12s %9s\n", "cell", "status", "eval loss", "N-bar",
                "N_final", "wall s");
    for (const CellRecord& r : ledger_.records()) {
      std::printf("%-46s %-9s %9.4f %12.0f %12.0f %9.1f%s%s\n", r.id.c_str(),
                  cell_status_name(r.status), r.run.final_eval_loss, r.run.n_avg,
                  static_cast<double>(r.run.n_final), r.wall_s, r.reason.empty() ? "" : "  ",
                  r.reason.c_str());
    }
    // Scheduling efficiency: the share of the groups' time spent training.
    const double wall = std::chrono::duration<double>(Clock::now() - start_).count();
    if (cells_ended_ > 0 && wall > 0) {
      const double available = wall * layout_.num_groups();
      std::printf(
          "scheduling: %d group(s) trained %.1f s of %.1f s (efficiency %.3f); "
          "overhead %.2f s of group time per cell\n",
          layout_.num_groups(), busy_s_, available, busy_s_ / available,
          (available - busy_s_) / cells_ended_);
    }
    std::printf("results: %s/results.csv, %s/results.h5\n", options_.out_dir.c_str(),
                options_.out_dir.c_str());
    std::fflush(stdout);
  }

  const Communicator& world_;
  const SweepLayout layout_;
  SweepOptions options_;
  Ledger ledger_;
  std::map<std::string, std::string> configs_;  // Cell id -> its config as INI.
  std::deque<std::string> queue_;
  std::vector<GroupState> groups_;
  std::vector<bool> silent_groups_;             // Given up on (give_up_on_silent_groups).
  const double silence_limit_s_;                // train.collective_timeout_s; 0: wait forever.
  Clock::time_point last_loop_ = Clock::now();  // The main loop's last turn.
  bool stopping_ = false;
  int cells_ended_ = 0, cells_shown_ = 0;
  double busy_s_ = 0;           // Training time the groups reported in this process.
  double flops_done_here_ = 0;  // Estimated FLOPs of the cells this process finished.
  Clock::time_point start_;
};

}  // namespace

int run_sweep_coordinator(const Communicator& world, const SweepLayout& layout,
                          const RunConfig& base, const std::vector<Cell>& cells,
                          const SweepOptions& options) {
  return Coordinator(world, layout, base, cells, options).run();
}

}  // namespace journey
