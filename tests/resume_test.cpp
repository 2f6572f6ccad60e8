// Resuming `journey train` from its HDF5 checkpoints, in new processes, on the same and on
// other group sizes:
//   - bitwise: a run stopped by SIGTERM and restarted ends with exactly the weights, masks
//     and AdamW moments of the run that never stopped;
//   - resharding 4 -> 2, 4 -> 3, 1 -> 4: a checkpoint written by k ranks restores on j, and
//     the first step after the restore has the loss the uninterrupted k-rank run had there
//     (to rounding: the group sums gradients in another order);
//   - faults: a frozen rank ends its group at the collective deadline, and SIGTERM still
//     ends a rank that waits on a frozen peer.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "io/checkpoint_dir.h"
#include "io/checkpoint_file.h"
#include "io/directory_lock.h"
#include "tests/subprocess.h"
#include "tests/system_test_helpers.h"
#include "tests/test_dataset.h"

namespace journey {
namespace {

namespace fs = std::filesystem;
using testing::journey_command;
using testing::run_process;

constexpr int kSteps = 48;

std::string train_config() {
  const std::string path = ::testing::TempDir() + "journey-resume-test.ini";
  std::ofstream(path) << "[model]\nd_model = 48\nn_layers = 2\nn_heads = 2\nseq_len = 32\n"
                      << "[train]\nbatch_tokens = 384\ntokens = " << kSteps * 384
                      << "\ncheckpoint_every = 8\nkeep_checkpoints = 10\neval_sequences = 12\n"
                      << "log_every = 4\nthreads = 1\n"
                      << "[prune]\nsparsity = 0.6\ninterval = 2\n"
                      << "[data]\ndir = " << testing::test_dataset_dir()
                      << "\nvocab_size = " << testing::kTestVocab << "\n";
  return path;
}

std::string train_command(int ranks, const std::string& out) {
  return testing::mpirun(ranks) +
         journey_command("train --config " + train_config() + " --out " + out);
}

std::string fresh_dir(const std::string& name) {
  return testing::fresh_dir("resume-" + name);
}

// The uninterrupted run on `ranks` ranks, once per test process.
const std::string& reference(int ranks) {
  static std::map<int, std::string> dirs;
  if (dirs.count(ranks) == 0) {
    const std::string dir = fresh_dir("reference-" + std::to_string(ranks));
    testing::ProcessResult r = run_process(train_command(ranks, dir));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    dirs[ranks] = dir;
  }
  return dirs[ranks];
}

// Starts a run, waits for its checkpoint at step 16, stops it with SIGTERM (as a preemption
// does) and returns the step it stopped at.
int64_t interrupted_run(int ranks, const std::string& dir) {
  const pid_t pid = testing::start_process(train_command(ranks, dir), dir + ".log");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(checkpoint_path(dir + "/checkpoints", 16)) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  run_process("pkill -TERM -f '^[^ ]*journey train .*--out " + dir + "$'");
  const int code = testing::wait_process(pid);
  EXPECT_EQ(code, 75) << testing::read_file(dir + ".log");
  std::vector<CheckpointEntry> all = list_checkpoints(dir + "/checkpoints");
  EXPECT_FALSE(all.empty());
  return all.empty() ? 0 : all.back().step;
}

// Training loss per step from metrics.csv.
std::vector<double> losses(const std::string& dir) {
  std::ifstream in(dir + "/metrics.csv");
  std::string line;
  std::getline(in, line);
  std::vector<double> out;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string step, loss;
    std::getline(row, step, ',');
    std::getline(row, loss, ',');
    out.push_back(std::stod(loss));
  }
  return out;
}

std::vector<uint8_t> dataset_bytes(const CheckpointReader& r, const std::string& path) {
  std::vector<uint8_t> bytes(r.info(path).elements() * dtype_size(r.info(path).dtype));
  r.read_tensor(path, static_cast<void*>(bytes.data()));
  return bytes;
}

TEST(Resume, StoppedAndRestartedRunIsBitwiseTheUninterruptedOne) {
  const std::string dir = fresh_dir("bitwise");
  const int64_t stopped_at = interrupted_run(1, dir);
  ASSERT_GT(stopped_at, 0);
  ASSERT_LT(stopped_at, kSteps) << "the run finished before the signal";
  testing::ProcessResult r = run_process(train_command(1, dir));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed"), std::string::npos) << r.output;

  CheckpointReader mine = CheckpointReader::open(checkpoint_path(dir + "/checkpoints", kSteps));
  CheckpointReader ref =
      CheckpointReader::open(checkpoint_path(reference(1) + "/checkpoints", kSteps));
  int compared = 0;
  for (const char* group : {"params", "masks", "optim/exp_avg", "optim/exp_avg_sq"}) {
    for (const std::string& name : ref.list(group)) {
      const std::string path = std::string(group) + "/" + name;
      EXPECT_EQ(dataset_bytes(mine, path), dataset_bytes(ref, path)) << path;
      ++compared;
    }
  }
  EXPECT_GT(compared, 40);
  EXPECT_EQ(losses(dir), losses(reference(1)));
}

void expect_resharded_resume(int written_by, int resumed_on) {
  const std::string dir = fresh_dir(std::to_string(written_by) + "to" + std::to_string(resumed_on));
  const int64_t stopped_at = interrupted_run(written_by, dir);
  ASSERT_GT(stopped_at, 0);
  ASSERT_LT(stopped_at, kSteps);
  testing::ProcessResult r = run_process(train_command(resumed_on, dir));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<double> resumed = losses(dir), uninterrupted = losses(reference(written_by));
  ASSERT_EQ(resumed.size(), static_cast<size_t>(kSteps));
  ASSERT_EQ(uninterrupted.size(), static_cast<size_t>(kSteps));
  // Steps before the stop are the k-rank run's own; the first step after the restore ran on
  // the restored weights, masks and moments with the same data.
  for (int64_t t = 0; t < stopped_at; ++t) EXPECT_EQ(resumed[t], uninterrupted[t]) << t;
  EXPECT_NEAR(resumed[stopped_at], uninterrupted[stopped_at], 1e-5 * uninterrupted[stopped_at])
      << "first step after a " << written_by << " -> " << resumed_on << " restore";
  // Afterwards rounding differences grow slowly; the run stays on course.
  EXPECT_NEAR(resumed.back(), uninterrupted.back(), 0.01 * uninterrupted.back());
}

// A copy of the finished one-rank reference run, to be changed by a test.
std::string copy_of_reference(const std::string& name) {
  const std::string dir = fresh_dir(name);
  fs::remove_all(dir);
  fs::copy(reference(1), dir, fs::copy_options::recursive);
  fs::remove(DirectoryLock::lock_file(dir));
  return dir;
}

// --fresh once kept the older run's checkpoints beside the new ones, and pruning, which kept
// the highest steps of any run, then deleted the new run's own.
TEST(Resume, FreshStartKeepsThePreviousRunAsideAndPrunesOnlyItsOwn) {
  const std::string dir = copy_of_reference("fresh");
  const std::vector<CheckpointEntry> old = list_checkpoints(dir + "/checkpoints");
  ASSERT_FALSE(old.empty());
  const std::string old_sparsity = testing::read_file(dir + "/sparsity.csv");
  std::vector<std::string> old_events;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("events.out.tfevents.", 0) == 0) old_events.push_back(name);
  }
  ASSERT_FALSE(old_events.empty());
  testing::ProcessResult r =
      run_process(train_command(1, dir) + " --fresh --train.keep_checkpoints=2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("the previous run is kept in " + dir + "/replaced-1"), std::string::npos)
      << r.output;
  // The old run, whole, in replaced-1; the new run's two newest checkpoints in checkpoints/.
  EXPECT_EQ(list_checkpoints(dir + "/replaced-1/checkpoints").size(), old.size());
  EXPECT_TRUE(fs::exists(dir + "/replaced-1/summary.json"));
  // Its sparsity table and TensorBoard events too: the new run's are its own, not appended to
  // or shown beside the old ones.
  EXPECT_EQ(testing::read_file(dir + "/replaced-1/sparsity.csv"), old_sparsity);
  for (const std::string& name : old_events) {
    EXPECT_TRUE(fs::exists(dir + "/replaced-1/" + name)) << name;
    EXPECT_FALSE(fs::exists(dir + "/" + name)) << name;
  }
  std::vector<int64_t> steps;
  for (const CheckpointEntry& e : list_checkpoints(dir + "/checkpoints")) steps.push_back(e.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{kSteps - 8, kSteps}));
  EXPECT_EQ(losses(dir), losses(reference(1)));  // The same run again, from scratch.
}

// A truncated newest checkpoint is skipped, and the resumed run, which reaches its step
// again, writes its own beside it: the bad file is renamed out of the way, never replaced.
TEST(Resume, AnInvalidNewestCheckpointIsKeptAsideNotWrittenOver) {
  const std::string dir = copy_of_reference("invalid-newest");
  const std::string newest = checkpoint_path(dir + "/checkpoints", kSteps);
  fs::resize_file(newest, fs::file_size(newest) / 2);
  const std::string truncated = testing::read_file(newest);
  testing::ProcessResult r = run_process(train_command(1, dir));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("skipping checkpoint " + newest), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kept the invalid checkpoint " + newest + " as " + newest + ".invalid"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(testing::read_file(newest + ".invalid"), truncated);
  EXPECT_NE(testing::read_file(newest), truncated);
  EXPECT_EQ(losses(dir), losses(reference(1)));
}

// A run resumes only on its own data and config: the dataset moved elsewhere is the same
// data; the same text split differently, with the same tokenizer, or a changed lr is refused
// naming both sides, as a bad config (exit 2) on every rank, before anything is written.
TEST(Resume, ARunResumesOnlyOnItsDataAndConfig) {
  const std::string dir = copy_of_reference("other-data");
  fs::remove(checkpoint_path(dir + "/checkpoints", kSteps));
  for (int ranks : {1, 2}) {
    testing::ProcessResult r =
        run_process(train_command(ranks, dir) + " --data.dir=" + testing::other_test_dataset_dir());
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("was trained on other data (train.tokens: "), std::string::npos)
        << r.output;
    r = run_process(train_command(ranks, dir) + " --train.lr=0.01");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("belongs to another run"), std::string::npos) << r.output;
  }
  EXPECT_FALSE(fs::exists(checkpoint_path(dir + "/checkpoints", kSteps)));
  testing::ProcessResult r = run_process(train_command(1, dir) + " --data.dir=/nonexistent-data");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("config key data.dir = /nonexistent-data is not a dataset: no such "
                          "directory"),
            std::string::npos)
      << r.output;

  const std::string moved = fresh_dir("moved-data");
  fs::remove_all(moved);
  fs::copy(testing::test_dataset_dir(), moved, fs::copy_options::recursive);
  r = run_process(train_command(1, dir) + " --data.dir=" + moved);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed"), std::string::npos) << r.output;
  EXPECT_EQ(losses(dir), losses(reference(1)));
}

// Only the group's leader writes the run's records; when one of those writes fails (here
// progress.json cannot be replaced: a directory has its name), the whole group stops at the
// next step with the leader's error, instead of the others waiting in a collective for the
// leader until the collective timeout.
TEST(Resume, ALeadersFailedWriteStopsTheGroupAtTheNextStep) {
  const std::string dir = fresh_dir("leader-write");
  fs::create_directories(dir + "/progress.json/occupied");
  testing::ProcessResult r =
      run_process(train_command(2, dir) + " --train.collective_timeout_s=120");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("writing the run's records failed: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("progress.json"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("the group's leader (rank 0) could not write the run's records"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("collective_timeout_s"), std::string::npos) << r.output;
}

// A finished run started again trains nothing and keeps its summary; a summary an earlier,
// preempted attempt left (the last attempt was killed between its final checkpoint and its
// summary) is replaced by the finished run's.
TEST(Resume, AFinishedRunKeepsItsSummaryButReplacesAPreemptedOne) {
  const std::string dir = copy_of_reference("stale-summary");
  const std::string done = testing::read_file(dir + "/summary.json");
  testing::ProcessResult r = run_process(train_command(1, dir));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(testing::read_file(dir + "/summary.json"), done);

  nlohmann::json stale = nlohmann::json::parse(done);
  stale["status"] = "preempted";
  stale["steps_done"] = kSteps / 2;
  std::ofstream(dir + "/summary.json") << stale.dump();
  r = run_process(train_command(1, dir));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json summary = nlohmann::json::parse(testing::read_file(dir + "/summary.json"));
  EXPECT_EQ(summary["status"], "done");
  EXPECT_EQ(summary["steps_done"], kSteps);
}

// Evaluation settings do not shape training, so a run resumes under new ones (it was
// refused as "another run").
TEST(Resume, ChangedEvaluationSettingsStillResume) {
  const std::string dir = copy_of_reference("eval-keys");
  fs::remove(checkpoint_path(dir + "/checkpoints", kSteps));
  // A half-written checkpoint a killed writer left behind is cleaned up at the start.
  const std::string stale = dir + "/checkpoints/.ckpt-000000048.h5.tmp-99999-1";
  std::ofstream(stale) << "partial";
  testing::ProcessResult r =
      run_process(train_command(1, dir) +
                  " --train.eval_every=16 --train.eval_sequences=8 --train.log_every=2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(stale)) << "the stale temporary was left";
  EXPECT_TRUE(fs::exists(checkpoint_path(dir + "/checkpoints", kSteps)));
}

// A validation shard too small for train.eval_sequences was found only after the last
// step, so the whole run was lost; it is now refused before step 0.
TEST(Resume, DataRequirementsAreCheckedBeforeTheFirstStep) {
  const std::string dir = fresh_dir("too-few-val");
  testing::ProcessResult r = run_process(train_command(1, dir) + " --train.eval_sequences=1000000");
  EXPECT_EQ(r.exit_code, 2) << r.output;  // A config value the data cannot serve.
  EXPECT_NE(r.output.find("lower train.eval_sequences"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/metrics.csv"));
  EXPECT_TRUE(list_checkpoints(dir + "/checkpoints").empty());
}

// Two runs in one directory would overwrite each other's checkpoints.
TEST(Resume, ASecondTrainInTheSameDirectoryIsRefused) {
  const std::string dir = fresh_dir("locked");
  // Long enough (10^5 steps) to be running whatever the machine's speed; stopped below.
  const pid_t first = testing::start_process(
      train_command(1, dir) + " --train.tokens=" + std::to_string(100000 * 384), dir + ".log");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(dir + "/progress.json") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  testing::ProcessResult second = run_process(train_command(1, dir));
  run_process("pkill -TERM -f '^[^ ]*journey train .*--out " + dir + "( |$)'");
  EXPECT_EQ(testing::wait_process(first), 75);
  EXPECT_EQ(second.exit_code, 2) << second.output;
  EXPECT_NE(second.output.find("is in use by journey train on host"), std::string::npos)
      << second.output;
  EXPECT_NE(second.output.find("pid"), std::string::npos) << second.output;
}

// TensorBoard's own reader (PyPI's tensorboard) on a run that was stopped, lost its newest
// checkpoint and resumed from an older one, training some steps twice: every step is shown
// once, with the loss metrics.csv has, and the final eval loss is eval.csv's.
TEST(Resume, TensorBoardShowsEachStepOnceAcrossAResume) {
  const std::string dir = fresh_dir("tensorboard");
  const int64_t stopped_at = interrupted_run(1, dir);
  ASSERT_GE(stopped_at, 16);  // Checkpoints every 8 steps: an older one is left.
  fs::remove(checkpoint_path(dir + "/checkpoints", stopped_at));  // Resume from an older one.
  testing::ProcessResult r = run_process(train_command(1, dir));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int event_files = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    event_files += e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  }
  EXPECT_EQ(event_files, 2);

  const testing::ProcessResult tb =
      run_process(std::string(JOURNEY_PYTHON " ") + JOURNEY_SOURCE_DIR +
                  "/tests/python/read_tensorboard.py " + dir);
  ASSERT_EQ(tb.exit_code, 0) << tb.output;
  std::map<std::string, std::vector<std::pair<int64_t, double>>> points;
  std::istringstream lines(tb.output);  // Also holds TensorBoard's log lines (the purge).
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string point, tag;
    int64_t step = 0;
    double value = 0;
    if (words >> point >> tag >> step >> value && point == "point") {
      points[tag].emplace_back(step, value);
    }
  }
  const std::vector<double> csv_losses = losses(dir);
  ASSERT_EQ(csv_losses.size(), static_cast<size_t>(kSteps));
  ASSERT_EQ(points["train/loss"].size(), static_cast<size_t>(kSteps)) << tb.output;
  for (int64_t i = 0; i < kSteps; ++i) {
    EXPECT_EQ(points["train/loss"][i].first, i + 1);
    EXPECT_FLOAT_EQ(points["train/loss"][i].second, csv_losses[i]) << "step " << i + 1;
  }
  for (const char* tag : {"train/lr", "train/density", "train/tokens_per_s", "train/grad_norm"}) {
    EXPECT_EQ(points[tag].size(), static_cast<size_t>(kSteps)) << tag;
  }
  ASSERT_FALSE(points["eval/loss"].empty()) << tb.output;
  EXPECT_EQ(points["eval/loss"].back().first, kSteps);
  std::ifstream eval(dir + "/eval.csv");
  std::string line, last;
  while (std::getline(eval, line)) last = line;
  EXPECT_FLOAT_EQ(points["eval/loss"].back().second, std::stod(last.substr(last.find(',') + 1)));
}

// train.collectives names the backend: mpi trains (the CPU's), and a name this build does
// not have is refused before anything runs, listing the ones it has.
TEST(Resume, TheCollectivesBackendIsChosenByName) {
  const std::string dir = fresh_dir("collectives-by-name");
  testing::ProcessResult mpi = run_process(train_command(2, dir) + " --train.collectives=mpi");
  EXPECT_EQ(mpi.exit_code, 0) << mpi.output;
  EXPECT_EQ(losses(dir), losses(reference(2)));
  const std::string refused_dir = fresh_dir("collectives-unknown");
  testing::ProcessResult gloo =
      run_process(train_command(1, refused_dir) + " --train.collectives=gloo");
  EXPECT_EQ(gloo.exit_code, 2) << gloo.output;
  EXPECT_NE(gloo.output.find("train.collectives = gloo is invalid: must be auto or a backend "
                             "this build has: mpi"),
            std::string::npos)
      << gloo.output;
  EXPECT_FALSE(fs::exists(refused_dir + "/metrics.csv"));
}

// checkpoints/ made a link to another directory: `journey train` refuses to start, so no
// checkpoint is written, pruned or cleaned up there.
TEST(Resume, ACheckpointDirectoryThatIsALinkIsRefused) {
  const std::string dir = fresh_dir("checkpoints-link");
  const std::string elsewhere = fresh_dir("checkpoints-link-target");
  fs::create_directories(elsewhere);
  fs::create_directories(dir);
  std::ofstream(elsewhere + "/ckpt-000000008.h5") << "not Journey's";
  fs::create_directory_symlink(elsewhere, dir + "/checkpoints");
  testing::ProcessResult r = run_process(train_command(1, dir));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(dir + "/checkpoints: it is a symbolic link"), std::string::npos)
      << r.output;
  EXPECT_EQ(testing::read_file(elsewhere + "/ckpt-000000008.h5"), "not Journey's");
  EXPECT_FALSE(fs::exists(dir + "/metrics.csv"));
}

// The pids of the ranks of the run writing to `dir`, by MPI world rank (Open MPI puts
// OMPI_COMM_WORLD_RANK in each rank's environment); waits until the run has started training.
std::map<int, pid_t> rank_pids(const std::string& dir) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(dir + "/progress.json") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::map<int, pid_t> ranks;
  std::istringstream pids(
      run_process("pgrep -f '^[^ ]*journey train .*--out " + dir + "( |$)'").output);
  for (pid_t pid; pids >> pid;) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/environ");
    for (std::string entry; std::getline(in, entry, '\0');) {
      const std::string key = "OMPI_COMM_WORLD_RANK=";
      if (entry.rfind(key, 0) == 0) ranks[std::stoi(entry.substr(key.size()))] = pid;
    }
  }
  return ranks;
}

// Waits up to two minutes for a run started by start_process(); a run still going then is
// killed (so a hang fails the test instead of stalling it) and reported as -1.
int exit_code_within_two_minutes(pid_t run, const std::string& dir) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int status = 0;
  while (waitpid(run, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      run_process("pkill -KILL -f 'journey train .*--out " + dir + "( |$)'");
      testing::wait_process(run);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Starts a long two-rank run with train.collective_timeout_s = `collective_timeout_s` and,
// once it trains, freezes rank 1 (SIGSTOP stands in for a hung GPU or a lost node); gives
// rank 0's pid in `rank_0` when asked. Returns the run's pid for
// exit_code_within_two_minutes().
pid_t start_and_freeze_rank_1(const std::string& dir, int collective_timeout_s, pid_t* rank_0) {
  const pid_t run = testing::start_process(
      train_command(2, dir) + " --train.collective_timeout_s=" +
          std::to_string(collective_timeout_s) + " --train.tokens=" + std::to_string(100000 * 384),
      dir + ".log");
  std::map<int, pid_t> ranks = rank_pids(dir);
  EXPECT_EQ(ranks.size(), 2u) << testing::read_file(dir + ".log");
  if (ranks.count(1)) kill(ranks[1], SIGSTOP);
  if (rank_0 != nullptr) *rank_0 = ranks.count(0) ? ranks[0] : 0;
  return run;
}

// A rank that freezes (SIGSTOP stands in for a hung GPU or a lost node) leaves its peer
// waiting in a collective. The deadline ends the group with exit 1 and a message naming the
// call and the key, instead of a hang until the job's time limit.
TEST(Resume, AFrozenRankEndsTheGroupAfterTheCollectiveTimeout) {
  const std::string dir = fresh_dir("frozen-rank");
  const pid_t run = start_and_freeze_rank_1(dir, /*collective_timeout_s=*/3, nullptr);
  const int code = exit_code_within_two_minutes(run, dir);
  const std::string log = testing::read_file(dir + ".log");
  EXPECT_EQ(code, 1) << log;
  EXPECT_NE(log.find("on group rank 0 of 2 has waited"), std::string::npos) << log;
  EXPECT_NE(log.find("longer than train.collective_timeout_s = 3 s"), std::string::npos) << log;
}

// SIGTERM (a preemption) reaches a rank blocked by a frozen peer: it ends as preempted (75)
// once the call has waited the grace (here the 10 s timeout), and says the step is lost.
TEST(Resume, AStopRequestEndsARankBlockedByAFrozenPeer) {
  const std::string dir = fresh_dir("frozen-peer-stop");
  pid_t rank_0 = 0;
  const pid_t run = start_and_freeze_rank_1(dir, /*collective_timeout_s=*/10, &rank_0);
  ASSERT_GT(rank_0, 0);  // kill(0, ...) would signal this test's own process group.
  kill(rank_0, SIGTERM);
  const int code = exit_code_within_two_minutes(run, dir);
  const std::string log = testing::read_file(dir + ".log");
  EXPECT_EQ(code, 75) << log;
  EXPECT_NE(log.find("a stop was requested (SIGTERM or SIGUSR2) while collective"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("the step in progress is lost"), std::string::npos) << log;
}

TEST(Resume, FourRanksToTwo) {
  expect_resharded_resume(4, 2);
}
TEST(Resume, FourRanksToThree) {
  expect_resharded_resume(4, 3);
}
TEST(Resume, OneRankToFour) {
  expect_resharded_resume(1, 4);
}

}  // namespace
}  // namespace journey
