// `journey submit` against a real Slurm: the test starts its own one-node cluster with
// slurm/local-cluster.sh (state in the build tree, ports of its own) and stops it at the end.
//   - bad options fail before sbatch is called (a wrapper around sbatch records every call)
//     and leave nothing in the queue;
//   - a four-cell sweep on one coordinator and two groups of two completes;
//   - the same sweep, sent SIGUSR2 by Slurm mid-sweep, checkpoints, exits 75, requeues itself
//     and ends complete with the losses of the uninterrupted run, bit for bit.
// Needs root (slurmd launches jobs as their users); skipped with a message otherwise.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/subprocess.h"
#include "tests/system_test_helpers.h"
#include "tests/test_dataset.h"

namespace journey {
namespace {

namespace fs = std::filesystem;
using testing::journey_command;
using testing::read_file;
using testing::read_results;
using testing::run_process;

const std::string kClusterDir = std::string(JOURNEY_BUILD_DIR) + "/slurm-test-cluster";
const std::string kCluster = "JOURNEY_SLURM_DIR=" + kClusterDir +
                             " JOURNEY_SLURM_PORT=16837 " JOURNEY_SOURCE_DIR
                             "/slurm/local-cluster.sh ";
const std::string kWrapperDir = std::string(JOURNEY_BUILD_DIR) + "/slurm-test-bin";
const std::string kSbatchCalls = kWrapperDir + "/sbatch-calls.txt";

bool cluster_ready = false;
std::string skip_reason;
std::vector<std::string> test_dirs;  // Removed at the end when every test passed.

// Starts the cluster once for every test here and stops it after the last.
class LocalCluster : public ::testing::Environment {
 public:
  void SetUp() override {
    if (geteuid() != 0) {
      skip_reason = "the local Slurm cluster needs root";
      return;
    }
    const testing::ProcessResult up = run_process(kCluster + "up");
    ASSERT_EQ(up.exit_code, 0) << up.output;
    setenv("SLURM_CONF", (kClusterDir + "/slurm.conf").c_str(), 1);
    // An sbatch that records each call, then submits for real.
    fs::create_directories(kWrapperDir);
    const std::string real = run_process("command -v sbatch").output;
    const std::string wrapper = kWrapperDir + "/sbatch";
    std::ofstream(wrapper) << "#!/bin/sh\necho \"$@\" >> '" << kSbatchCalls << "'\nexec "
                           << real.substr(0, real.find('\n')) << " \"$@\"\n";
    chmod(wrapper.c_str(), 0755);
    cluster_ready = true;
  }
  void TearDown() override {
    if (!cluster_ready) return;
    const testing::ProcessResult down = run_process(kCluster + "down");
    EXPECT_EQ(down.exit_code, 0) << down.output;
    if (::testing::UnitTest::GetInstance()->Passed()) {
      for (const std::string& dir : test_dirs) fs::remove_all(dir);
    }
  }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new LocalCluster);

#define REQUIRE_CLUSTER()                                            \
  do {                                                               \
    if (!skip_reason.empty()) GTEST_SKIP() << skip_reason;           \
    ASSERT_TRUE(cluster_ready) << "the local cluster did not start"; \
  } while (0)

std::string fresh_dir(const std::string& name) {
  const std::string dir = testing::fresh_dir("slurm-" + name + "-" + std::to_string(getpid()));
  test_dirs.push_back(dir);
  return dir;
}

// Four cells (2 sizes x dense, 0.8), a few hundred steps of a tiny model each.
std::string sweep_config() {
  const std::string path = ::testing::TempDir() + "journey-slurm-test.ini";
  std::ofstream(path) << "[model]\nseq_len = 32\n"
                      << "[train]\nbatch_tokens = 256\nlr = 3e-3\neval_sequences = 16\n"
                      << "checkpoint_every = 25\nlog_every = 50\nthreads = 1\n"
                      << "[data]\ndir = " << testing::test_dataset_dir()
                      << "\nvocab_size = " << testing::kTestVocab << "\n"
                      << "[sweep]\nsizes = 32x1x2 48x1x2\nsparsities = 0 0.8\n"
                      << "tokens_per_param = 1.5\n";
  return path;
}

// `journey submit` with the recording sbatch first on PATH.
testing::ProcessResult submit(const std::string& out, const std::string& flags) {
  return run_process(
      "PATH=" + kWrapperDir + ":$PATH " +
      journey_command("submit --config " + sweep_config() + " --out " + out + " " + flags));
}

std::string job_id_of(const testing::ProcessResult& submitted) {
  const std::string marker = "submitted job ";
  const size_t at = submitted.output.find(marker);
  if (at == std::string::npos) return "";
  const size_t start = at + marker.size();
  return submitted.output.substr(start, submitted.output.find(':', start) - start);
}

// "KEY=value" of `scontrol show job -o ID`; empty once Slurm has forgotten the job.
std::string job_field(const std::string& id, const std::string& key) {
  const std::string line = run_process("scontrol show job -o " + id).output;
  const size_t at = line.find(" " + key + "=");
  if (at == std::string::npos) return "";
  const size_t start = at + key.size() + 2;
  return line.substr(start, line.find(' ', start) - start);
}

// Waits until the job has ended; returns its final state ("" if Slurm forgot it first).
std::string wait_for_job(const std::string& id, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::string state;
  while (std::chrono::steady_clock::now() < deadline) {
    state = job_field(id, "JobState");
    if (state.empty() || state == "COMPLETED" || state == "FAILED" || state == "CANCELLED" ||
        state == "TIMEOUT" || state == "NODE_FAIL") {
      return state;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  run_process("scancel " + id);
  return "still " + state + " after " + std::to_string(seconds) + " s";
}

// The uninterrupted sweep through `journey submit`, run once and shared.
const std::string& complete_sweep() {
  static const std::string dir = [] {
    const std::string d = fresh_dir("complete");
    const testing::ProcessResult r = submit(d, "--ranks-per-node 5 --group-size 2 --time 10");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const std::string id = job_id_of(r);
    EXPECT_FALSE(id.empty()) << r.output;
    EXPECT_EQ(wait_for_job(id, 300), "COMPLETED") << read_file(d + "/logs/job-" + id + ".out");
    return d;
  }();
  return dir;
}

TEST(Slurm, BadOptionsFailBeforeSbatchAndSubmitNothing) {
  REQUIRE_CLUSTER();
  fs::remove(kSbatchCalls);
  const std::string out = fresh_dir("bad");
  struct Case {
    std::string flags, message;
  };
  for (const Case& c : std::vector<Case>{
           {"--ranks-per-node 4 --group-size 2 --time 10", "1 + G*k"},
           {"--ranks-per-node 5 --group-size 2 --time 90min", "--time '90min'"},
           {"--ranks-per-node 5 --group-size 2 --time 10 --data.dir=/nonexistent", "data.dir"}}) {
    const testing::ProcessResult r = submit(out, c.flags);
    EXPECT_EQ(r.exit_code, 2) << c.flags << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.flags << "\n" << r.output;
  }
  const testing::ProcessResult missing = run_process(
      "PATH=" + kWrapperDir + ":$PATH " +
      journey_command("submit --config /nonexistent.ini --ranks-per-node 3 --time 10 --out " +
                      out));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("/nonexistent.ini"), std::string::npos) << missing.output;

  EXPECT_FALSE(fs::exists(kSbatchCalls)) << read_file(kSbatchCalls);
  const testing::ProcessResult queue = run_process("squeue -h");
  EXPECT_EQ(queue.exit_code, 0) << queue.output;
  EXPECT_EQ(queue.output, "") << "a refused submit left a job in the queue";
  EXPECT_FALSE(fs::exists(out));
}

// Site-wide SBATCH_* variables override #SBATCH lines; they once gave the job a one-minute
// limit and no requeue behind journey submit's back. Held, so it never runs.
TEST(Slurm, SbatchVariablesInTheEnvironmentDoNotChangeTheJob) {
  REQUIRE_CLUSTER();
  const std::string out = fresh_dir("environment");
  const testing::ProcessResult r = run_process(
      "SBATCH_TIMELIMIT=1 SBATCH_NO_REQUEUE=1 SBATCH_SIGNAL=USR1@5 PATH=" + kWrapperDir +
      ":$PATH " +
      journey_command("submit --config " + sweep_config() + " --out " + out +
                      " --ranks-per-node 5 --group-size 2 --time 10 --sbatch-arg=--hold"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string id = job_id_of(r);
  ASSERT_FALSE(id.empty()) << r.output;
  const std::string limit = job_field(id, "TimeLimit"), requeue = job_field(id, "Requeue");
  run_process("scancel " + id);
  EXPECT_EQ(limit, "00:10:00");
  EXPECT_EQ(requeue, "1");
  EXPECT_NE(r.output.find("SBATCH_TIMELIMIT=1 in the environment is overridden"), std::string::npos)
      << r.output;
}

TEST(Slurm, TinySweepSubmittedWithSbatchCompletes) {
  REQUIRE_CLUSTER();
  const std::string& dir = complete_sweep();
  EXPECT_NE(read_file(kSbatchCalls).find(dir + "/job.sbatch"), std::string::npos)
      << "the submit did not go through sbatch";
  auto rows = read_results(dir);
  ASSERT_EQ(rows.size(), 4u);
  for (auto& [id, row] : rows) {
    EXPECT_EQ(row["status"], "done") << id << ": " << row["reason"];
    EXPECT_EQ(row["group_size"], "2") << id;
    EXPECT_GT(std::stod(row["loss"]), 0.0) << id;
    EXPECT_TRUE(fs::exists(dir + "/cells/" + id + "/train.log")) << id;
  }
  const std::string ids = read_file(dir + "/slurm-jobs.txt");
  const std::string id = ids.substr(0, ids.find(' '));
  const std::string log = read_file(dir + "/logs/job-" + id + ".out");
  EXPECT_NE(log.find("attempt 1"), std::string::npos) << log;
  EXPECT_NE(log.find("sweep complete"), std::string::npos) << log;
  EXPECT_EQ(log.find("requeue"), std::string::npos) << log;

  const testing::ProcessResult status = run_process(journey_command("status " + dir));
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("4 cells: 4 done, 0 running, 0 failed, 0 pending"),
            std::string::npos)
      << status.output;
  EXPECT_NE(status.output.find("slurm job " + id + ": COMPLETED"), std::string::npos)
      << status.output;
}

TEST(Slurm, PreemptedMidSweepRequeuesItselfAndMatchesTheUninterruptedRun) {
  REQUIRE_CLUSTER();
  const std::string dir = fresh_dir("requeued");
  const testing::ProcessResult r = submit(dir, "--ranks-per-node 5 --group-size 2 --time 10");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string id = job_id_of(r);
  // A second job on the same directory would run the same cells twice.
  const testing::ProcessResult twice = submit(dir, "--ranks-per-node 5 --group-size 2 --time 10");
  EXPECT_EQ(twice.exit_code, 2) << twice.output;
  EXPECT_NE(twice.output.find("job " + id), std::string::npos) << twice.output;
  EXPECT_NE(twice.output.find("already runs the sweep"), std::string::npos) << twice.output;
  // Once some cell has a checkpoint, Slurm signals the job's ranks (not the batch shell),
  // exactly as it does --warn-before seconds before the time limit.
  ASSERT_TRUE(testing::wait_for_a_cell_checkpoint(dir, std::chrono::seconds(180)))
      << "no checkpoint appeared\n"
      << read_file(dir + "/logs/job-" + id + ".out");
  const testing::ProcessResult signal = run_process("scancel --signal=USR2 " + id);
  ASSERT_EQ(signal.exit_code, 0) << signal.output;

  // During the requeue `journey status` tells what happens.
  const auto requeue_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (job_field(id, "Restarts") == "0" && std::chrono::steady_clock::now() < requeue_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  const testing::ProcessResult during = run_process(journey_command("status " + dir));
  EXPECT_EQ(during.exit_code, 0) << during.output;
  EXPECT_NE(during.output.find("requeued 1 time"), std::string::npos) << during.output;

  const std::string state = wait_for_job(id, 300);
  const std::string log = read_file(dir + "/logs/job-" + id + ".out");
  ASSERT_EQ(state, "COMPLETED") << log;
  EXPECT_EQ(job_field(id, "Restarts"), "1") << log;
  EXPECT_NE(log.find("preempted; requeueing (requeue 1 of at most 20)"), std::string::npos) << log;
  EXPECT_NE(log.find("attempt 2"), std::string::npos) << log;
  EXPECT_NE(log.find("sweep complete"), std::string::npos) << log;

  auto resumed = read_results(dir), reference = read_results(complete_sweep());
  ASSERT_EQ(resumed.size(), 4u);
  for (auto& [cell, row] : resumed) {
    EXPECT_EQ(row["status"], "done") << cell;
    // Same group size: resuming from checkpoints is bitwise the uninterrupted run.
    EXPECT_EQ(row["loss"], reference[cell]["loss"]) << cell;
    EXPECT_EQ(row["n_avg"], reference[cell]["n_avg"]) << cell;
  }
  // The signal interrupted cells mid-run: they ran twice.
  const nlohmann::json ledger = nlohmann::json::parse(read_file(dir + "/ledger.json"));
  int resumed_cells = 0;
  for (const nlohmann::json& cell : ledger.at("cells")) resumed_cells += cell.at("attempts") == 2;
  EXPECT_GT(resumed_cells, 0) << ledger.dump(1);
}

}  // namespace
}  // namespace journey
