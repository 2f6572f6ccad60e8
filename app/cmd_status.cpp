// `journey status DIR`: a sweep's progress from its ledger, during and after the run, with
// the newest step of each running cell and the state of its Slurm job when `journey submit`
// started one. A report: exit 0 whatever state the cells are in; 1 when DIR is no sweep.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>

#include "app/cli.h"
#include "app/command.h"
#include "common/duration_text.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "common/terminal_text.h"
#include "slurm/slurm_client.h"
#include "slurm/submitted_jobs.h"
#include "sweep/cell_progress.h"
#include "sweep/ledger.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace journey {
namespace {

constexpr char kUsage[] = "journey status DIR";

enum class JobActivity { kNone, kActive, kEnded, kUnknown };

// Prints the newest job of DIR/slurm-jobs.txt as Slurm sees it, if there is one.
JobActivity print_slurm_job(const std::string& dir) {
  const std::vector<std::string> jobs = submitted_job_ids(dir);
  if (jobs.empty()) return JobActivity::kNone;
  const std::string& id = jobs.back();
  std::printf("slurm job %s: ", id.c_str());
  JobActivity activity = JobActivity::kUnknown;
  std::string error;
  if (const std::optional<SlurmJob> job = query_slurm_job(id, &error)) {
    activity = is_job_active(job->state) ? JobActivity::kActive : JobActivity::kEnded;
    std::printf("%s", terminal_safe(job->state).c_str());
    if (job->state == "PENDING" && !job->reason.empty() && job->reason != "None") {
      std::printf(" (%s)", terminal_safe(job->reason).c_str());
    }
    if (!job->run_time.empty()) {
      std::printf(", ran %s of %s", job->run_time.c_str(), job->time_limit.c_str());
    }
    if (job->restarts > 0) {
      std::printf(", requeued %d time%s", job->restarts, job->restarts == 1 ? "" : "s");
    }
  } else if (!error.empty()) {
    std::printf("state unknown (%s)", terminal_safe(error).c_str());
  } else {
    activity = JobActivity::kEnded;
    std::printf("no longer known to Slurm (ended)");
  }
  std::string log = "  log " + dir + "/logs/job-" + id + ".out";
  if (jobs.size() > 1) {
    log += " (" + std::to_string(jobs.size()) + " jobs submitted, see " + submitted_jobs_path(dir) +
           ")";
  }
  std::printf("\n%s\n", log.c_str());
  return activity;
}

void print_cells(const std::string& dir, const Ledger& ledger) {
  std::printf("\n%-46s %-9s %11s %9s %8s  %s\n", "cell", "status", "steps", "loss", "attempts",
              "note");
  for (const CellRecord& r : ledger.records()) {
    int64_t step = r.run.steps_done, total = r.run.total_steps;
    double loss = r.status == CellStatus::kDone ? r.run.final_eval_loss : r.run.final_loss;
    std::string note = r.reason;
    if (r.status == CellStatus::kRunning) {
      if (std::optional<CellProgress> p = read_cell_progress(dir + "/cells/" + r.id)) {
        step = p->step;
        if (p->total_steps > 0) total = p->total_steps;
        loss = p->loss;
        char lr[32];
        std::snprintf(lr, sizeof lr, "lr %.3g, ", p->lr);
        // The ETA was the trainer's when it wrote the file; it has run on since.
        const std::string eta =
            p->eta_s >= 0 ? "ETA " + duration_text(std::max(0.0, p->eta_s - p->age_s)) + ", " : "";
        note = "training loss, " + std::string(lr) + eta + p->source + " " +
               std::to_string(static_cast<long>(p->age_s)) + " s ago";
      } else {
        note = "starting";
      }
    } else if (r.status == CellStatus::kDone) {
      note = "eval loss";
    }
    const std::string steps = total > 0 ? std::to_string(step) + "/" + std::to_string(total)
                                        : (step > 0 ? std::to_string(step) : std::string("-"));
    char loss_text[32] = "-";
    if (loss > 0) std::snprintf(loss_text, sizeof loss_text, "%.4f", loss);
    std::printf("%-46s %-9s %11s %9s %8lld  %s\n", r.id.c_str(), cell_status_name(r.status),
                steps.c_str(), loss_text, static_cast<long long>(r.attempts),
                terminal_safe(note).c_str());
  }
}

}  // namespace

int command_status(const Args& args) {
  po::options_description flags("Options");
  const ParsedFlags parsed = parse_flags(
      args, flags, {"dir"},
      {kUsage,
       "Shows a sweep's progress from DIR/ledger.json, during and after the sweep: how many cells "
       "are done, running, failed and pending; each cell's steps and loss (the newest step of "
       "running cells, from their train.log); and the state of the Slurm job that `journey "
       "submit` started for DIR. Exit 0 whatever the cells' state; 1 when DIR is not a sweep "
       "directory.",
       true});
  if (parsed.help) return exit_code::kOk;
  const po::variables_map& vm = parsed.flags;
  if (!vm.count("dir")) throw UsageError(std::string("missing DIR (usage: ") + kUsage + ")");
  const std::string dir = vm["dir"].as<std::string>();
  const bool has_jobs = !submitted_job_ids(dir).empty();
  if (!fs::exists(dir + "/ledger.json") && has_jobs) {
    std::printf("sweep %s: not started yet (no ledger.json)\n", dir.c_str());
    print_slurm_job(dir);
    return exit_code::kOk;
  }
  const Ledger ledger = Ledger::load(dir);  // DataError (exit 1) when DIR is no sweep.
  std::printf(
      "sweep %s: %zu cells: %d done, %d running, %d failed, %d pending, %d preempted, "
      "%d diverged\n",
      dir.c_str(), ledger.records().size(), ledger.count(CellStatus::kDone),
      ledger.count(CellStatus::kRunning), ledger.count(CellStatus::kFailed),
      ledger.count(CellStatus::kPending), ledger.count(CellStatus::kPreempted),
      ledger.count(CellStatus::kDiverged));
  if (print_slurm_job(dir) == JobActivity::kEnded && ledger.count(CellStatus::kRunning) > 0) {
    std::printf(
        "  the job has ended, so the cells marked running are not: their sweep process "
        "stopped without finishing them, and the next run resumes them\n");
  }
  print_cells(dir, ledger);
  if (fs::exists(dir + "/results.csv")) {
    std::printf("\nresults: %s/results.csv, %s/results.h5\n", dir.c_str(), dir.c_str());
  }
  return exit_code::kOk;
}

}  // namespace journey
