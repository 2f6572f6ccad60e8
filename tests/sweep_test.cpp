// The sweep as users run it: real mpirun, a coordinator and worker groups, a real dataset.
// A six-cell grid on 1 + 2 groups x 2 ranks; SIGTERM mid-sweep and the same command again;
// an injected failing cell; a resume on another group size; the dry run; refused inputs.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/subprocess.h"
#include "tests/system_test_helpers.h"
#include "tests/test_dataset.h"

namespace journey {
namespace {

using testing::journey_command;
using testing::read_results;
using testing::run_process;

namespace fs = std::filesystem;

// Six cells: 2 sizes x (dense, 0.5, 0.8), a few hundred steps of a tiny model each.
std::string sweep_config() {
  const std::string path = ::testing::TempDir() + "journey-sweep-test.ini";
  std::ofstream(path) << "[model]\nseq_len = 32\n"
                      << "[train]\nbatch_tokens = 256\nlr = 3e-3\neval_sequences = 16\n"
                      << "checkpoint_every = 25\nlog_every = 50\nthreads = 1\n"
                      << "[data]\ndir = " << testing::test_dataset_dir()
                      << "\nvocab_size = " << testing::kTestVocab << "\n"
                      << "[sweep]\nsizes = 32x1x2 48x1x2\nsparsities = 0 0.5 0.8\n"
                      << "tokens_per_param = 1.5\n";
  return path;
}

std::string fresh_dir(const std::string& name) {
  return testing::fresh_dir("sweep-" + name);
}

std::string sweep_command(int ranks, int group_size, const std::string& out,
                          const std::string& extra = "") {
  return "OMP_NUM_THREADS=1 " + testing::mpirun(ranks) +
         journey_command("sweep --config " + sweep_config() + " --group-size " +
                         std::to_string(group_size) + " --out " + out + " " + extra);
}

// SIGTERM to every rank of the sweep writing to `dir` (not to mpirun), as srun delivers a
// preemption. The ranks run `<build>/journey sweep ...` (journey-torch keeps the argv).
void signal_ranks(const std::string& dir) {
  run_process("pkill -TERM -f '^[^ ]*journey sweep .*--out " + dir + "'");
}

// The uninterrupted reference sweep, run once for the tests that compare against it.
const std::string& reference_sweep() {
  static const std::string dir = [] {
    const std::string d = fresh_dir("reference");
    testing::ProcessResult r = run_process(sweep_command(5, 2, d));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::ofstream(d + ".out") << r.output;
    return d;
  }();
  return dir;
}

TEST(Sweep, SixCellGridCompletesOnTwoGroupsOfTwo) {
  auto rows = read_results(reference_sweep());
  ASSERT_EQ(rows.size(), 6u);
  for (auto& [id, row] : rows) {
    EXPECT_EQ(row["status"], "done") << id << ": " << row["reason"];
    EXPECT_EQ(row["group_size"], "2") << id;
    EXPECT_GT(std::stod(row["loss"]), 0.0) << id;
    const double n_avg = std::stod(row["n_avg"]), n_final = std::stod(row["n_final"]),
                 n_initial = std::stod(row["n_initial"]), sparsity = std::stod(row["sparsity"]);
    EXPECT_LE(n_final, n_avg);
    EXPECT_LE(n_avg, n_initial);
    EXPECT_NEAR(n_final / n_initial, 1.0 - sparsity, 1e-3) << id;
    EXPECT_TRUE(fs::exists(reference_sweep() + "/cells/" + id + "/metrics.csv")) << id;
  }
  EXPECT_TRUE(fs::exists(reference_sweep() + "/results.h5"));
  EXPECT_TRUE(fs::exists(reference_sweep() + "/ledger.json"));
  // results.csv holds each number as the shortest text that reads back exactly: the ledger's
  // losses and the config's lr as written.
  const nlohmann::json ledger =
      nlohmann::json::parse(testing::read_file(reference_sweep() + "/ledger.json"));
  for (const auto& cell : ledger["cells"]) {
    const auto& row = rows.at(cell["id"].get<std::string>());
    EXPECT_EQ(std::stod(row.at("loss")), cell["run"]["final_eval_loss"].get<double>());
    EXPECT_EQ(row.at("lr"), "0.003");
  }
  // Each cell is announced with its loss as it finishes.
  const std::string out = testing::read_file(reference_sweep() + ".out");
  for (auto& [id, row] : rows) {
    const std::string announced = "cell " + id + " done: eval loss ";
    const size_t at = out.find(announced);
    ASSERT_NE(at, std::string::npos) << id << "\n" << out;
    EXPECT_NEAR(std::stod(out.substr(at + announced.size(), 12)), std::stod(row["loss"]), 1e-4);
  }
}

TEST(Sweep, SigtermMidSweepThenSameCommandGivesTheSameLosses) {
  const std::string dir = fresh_dir("preempted");
  const std::string log = dir + ".log";
  pid_t pid = testing::start_process(sweep_command(5, 2, dir), log);
  // Wait until the first checkpoint of some cell exists, then signal every rank (as srun
  // does on preemption).
  ASSERT_TRUE(testing::wait_for_a_cell_checkpoint(dir, std::chrono::seconds(120)))
      << "no checkpoint appeared";
  signal_ranks(dir);
  const int code = testing::wait_process(pid);
  EXPECT_EQ(code, 75) << testing::read_file(log);
  auto partial = read_results(dir);
  int done = 0;
  for (auto& [id, row] : partial) {
    done += row["status"] == "done";
    if (row["status"] != "done") {
      // Results of unfinished cells are empty, never 0.
      EXPECT_EQ(row["loss"], "") << id;
      EXPECT_EQ(row["final_train_loss"], "") << id;
      EXPECT_EQ(row["n_avg"], "") << id;
    }
  }
  EXPECT_LT(done, 6) << "the signal came too late to interrupt anything";

  testing::ProcessResult again = run_process(sweep_command(5, 2, dir));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  auto resumed = read_results(dir), reference = read_results(reference_sweep());
  ASSERT_EQ(resumed.size(), 6u);
  for (auto& [id, row] : resumed) {
    EXPECT_EQ(row["status"], "done") << id;
    // Same group size: resuming is bitwise the uninterrupted run.
    EXPECT_EQ(row["loss"], reference[id]["loss"]) << id;
    EXPECT_EQ(row["n_avg"], reference[id]["n_avg"]) << id;
  }
}

// A sweep preempted mid-cell and run again with a grown grid resumes those cells from their
// checkpoints (the grid is not part of a cell's training identity) and gives the
// uninterrupted losses, plus the new cells.
TEST(Sweep, APreemptedSweepResumesItsCellsWhenTheGridGrows) {
  const std::string dir = fresh_dir("preempted-grown");
  const std::string log = dir + ".log";
  pid_t pid = testing::start_process(sweep_command(5, 2, dir), log);
  ASSERT_TRUE(testing::wait_for_a_cell_checkpoint(dir, std::chrono::seconds(120)))
      << "no checkpoint appeared";
  signal_ranks(dir);
  ASSERT_EQ(testing::wait_process(pid), 75) << testing::read_file(log);

  testing::ProcessResult again =
      run_process(sweep_command(5, 2, dir, "'--sweep.sparsities=0 0.5 0.8 0.9'"));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("resumed "), std::string::npos) << again.output;
  auto grown = read_results(dir), reference = read_results(reference_sweep());
  ASSERT_EQ(grown.size(), 8u);
  for (auto& [id, row] : reference) {
    EXPECT_EQ(grown[id]["status"], "done") << id;
    EXPECT_EQ(grown[id]["loss"], row["loss"]) << id;
  }
}

TEST(Sweep, ResumeOnAnotherGroupSizeCompletes) {
  const std::string dir = fresh_dir("regrouped");
  const std::string log = dir + ".log";
  pid_t pid = testing::start_process(sweep_command(5, 2, dir), log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(dir + "/results.csv") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  signal_ranks(dir);
  EXPECT_EQ(testing::wait_process(pid), 75);

  testing::ProcessResult again = run_process(sweep_command(3, 1, dir));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  auto resumed = read_results(dir), reference = read_results(reference_sweep());
  for (auto& [id, row] : resumed) {
    EXPECT_EQ(row["status"], "done") << id;
    // Another group size sums gradients in another order; over a few hundred steps the
    // rounding differences flip a few near-threshold weights, so the runs drift apart a
    // little (worker tests check the step right after a resharded restore to 1e-5).
    const double reference_loss = std::stod(reference[id]["loss"]);
    EXPECT_NEAR(std::stod(row["loss"]), reference_loss, 0.01 * reference_loss) << id;
  }
}

TEST(Sweep, InjectedFailureIsIsolatedAndRetried) {
  const std::string dir = fresh_dir("failure");
  const std::string bad = "48x1x2-sp0.5-geometric-p25-75-tpp1.5-seed0";
  testing::ProcessResult r =
      run_process("JOURNEY_INJECT_FAILURE=" + bad + " " + sweep_command(3, 1, dir));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  auto rows = read_results(dir);
  ASSERT_EQ(rows.size(), 6u);
  for (auto& [id, row] : rows) {
    if (id == bad) {
      EXPECT_EQ(row["status"], "failed");
      EXPECT_NE(row["reason"].find("injected failure"), std::string::npos) << row["reason"];
    } else {
      EXPECT_EQ(row["status"], "done") << id;
    }
  }
  testing::ProcessResult retry = run_process(sweep_command(3, 1, dir, "--retry-failed"));
  EXPECT_EQ(retry.exit_code, 0) << retry.output;
  EXPECT_EQ(read_results(dir)[bad]["status"], "done");
}

// A failure is often passing (a full disk, a lost node): --retry-failed resumes the cell
// from its newest valid checkpoint (it once restarted it from scratch in a new directory).
TEST(Sweep, RetryResumesFailedCellsFromTheirCheckpoints) {
  const std::string dir = fresh_dir("retry-resumes");
  const pid_t pid = testing::start_process(sweep_command(5, 2, dir), dir + ".log");
  ASSERT_TRUE(testing::wait_for_a_cell_checkpoint(dir, std::chrono::seconds(120)));
  signal_ranks(dir);
  ASSERT_EQ(testing::wait_process(pid), 75) << testing::read_file(dir + ".log");
  // Mark the interrupted cells failed, as a full disk would have left them.
  nlohmann::json ledger = nlohmann::json::parse(testing::read_file(dir + "/ledger.json"));
  std::vector<std::string> failed;
  for (auto& cell : ledger["cells"]) {
    if (cell["status"] != "preempted") continue;
    const std::string id = cell["id"];
    if (fs::is_empty(dir + "/cells/" + id + "/checkpoints")) continue;
    cell["status"] = "failed";
    cell["reason"] = "No space left on device";
    failed.push_back(id);
  }
  ASSERT_FALSE(failed.empty());
  std::ofstream(dir + "/ledger.json") << ledger.dump(1);

  testing::ProcessResult retry = run_process(sweep_command(5, 2, dir, "--retry-failed"));
  ASSERT_EQ(retry.exit_code, 0) << retry.output;
  auto rows = read_results(dir), reference = read_results(reference_sweep());
  for (const std::string& id : failed) {
    EXPECT_NE(retry.output.find("resumed " + id + " from"), std::string::npos) << id;
    EXPECT_FALSE(fs::exists(dir + "/cells/" + id + ".failed-1")) << id;
    EXPECT_EQ(rows[id]["status"], "done") << id;
    EXPECT_EQ(rows[id]["loss"], reference[id]["loss"]) << id;  // Same group size: bitwise.
  }
}

// Two sweeps on one directory would train the same cells twice and lose ledger updates.
TEST(Sweep, ASecondSweepOnTheSameDirectoryIsRefused) {
  const std::string dir = fresh_dir("locked");
  const pid_t first = testing::start_process(sweep_command(3, 1, dir), dir + ".log");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(dir + "/ledger.json") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  testing::ProcessResult second = run_process(sweep_command(3, 1, dir));
  // A running cell's line in `journey status` gives its learning rate and ETA.
  const auto progress_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  auto some_progress = [&] {
    for (const auto& cell : fs::directory_iterator(dir + "/cells")) {
      if (fs::exists(cell.path() / "progress.json")) return true;
    }
    return false;
  };
  while (!some_progress() && std::chrono::steady_clock::now() < progress_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  testing::ProcessResult status = run_process(journey_command("status " + dir));
  // `journey train` aimed at one of its cells is refused too: the sweep writes them.
  const std::string cell = dir + "/cells/32x1x2-dense-tpp1.5-seed0";
  testing::ProcessResult train =
      run_process(journey_command("train --config " + sweep_config() + " --out " + cell));
  signal_ranks(dir);
  testing::wait_process(first);
  EXPECT_EQ(second.exit_code, 2) << second.output;
  EXPECT_NE(second.output.find("is in use by journey sweep on host"), std::string::npos)
      << second.output;
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("training loss, lr "), std::string::npos) << status.output;
  EXPECT_NE(status.output.find(", ETA "), std::string::npos) << status.output;
  EXPECT_EQ(train.exit_code, 2) << train.output;
  EXPECT_NE(train.output.find("journey train in " + cell + " is refused: " + dir +
                              " is in use by journey sweep on host"),
            std::string::npos)
      << train.output;
}

// A group of one rank that hangs (SIGSTOP stands in for a hung GPU or a lost node; a group of
// one has no peer whose collective deadline would notice) is given up on after
// train.collective_timeout_s without a message: its cell goes back to preempted, the other
// group trains every other cell, and the launch ends as preempted (75), so that a Slurm job
// requeues and the same command resumes the cell.
TEST(Sweep, AGroupThatStopsAnsweringIsGivenUpOnAndTheOthersFinish) {
  const std::string dir = fresh_dir("silent-group");
  const pid_t run = testing::start_process(
      sweep_command(3, 1, dir, "--train.collective_timeout_s=8"), dir + ".log");
  // Rank 1 (group 0's only rank) once it trains: its cell has progress.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  pid_t rank_1 = 0;
  while (rank_1 == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!fs::exists(dir + "/ledger.json")) continue;
    const nlohmann::json ledger =
        nlohmann::json::parse(testing::read_file(dir + "/ledger.json"), nullptr, false);
    std::string cell;
    for (const auto& c : ledger.value("cells", nlohmann::json::array())) {
      if (c.value("status", "") == "running" && c.value("group", -1) == 0) cell = c["id"];
    }
    if (cell.empty() || !fs::exists(dir + "/cells/" + cell + "/progress.json")) continue;
    std::istringstream pids(
        run_process("pgrep -f '^[^ ]*journey sweep .*--out " + dir + " '").output);
    for (pid_t pid; pids >> pid;) {
      std::ifstream in("/proc/" + std::to_string(pid) + "/environ");
      for (std::string entry; std::getline(in, entry, '\0');) {
        if (entry == "OMPI_COMM_WORLD_RANK=1") rank_1 = pid;
      }
    }
  }
  ASSERT_NE(rank_1, 0) << testing::read_file(dir + ".log");
  kill(rank_1, SIGSTOP);
  const int code = testing::wait_process(run);
  const std::string log = testing::read_file(dir + ".log");
  EXPECT_EQ(code, 75) << log;
  EXPECT_NE(log.find("(leader rank 1) sent nothing for"), std::string::npos) << log;
  EXPECT_NE(log.find("sweep incomplete: a group stopped answering"), std::string::npos) << log;
  int done = 0, preempted = 0;
  for (const auto& [id, row] : read_results(dir)) {
    done += row.at("status") == "done";
    preempted += row.at("status") == "preempted";
  }
  EXPECT_EQ(done, 5) << log;
  EXPECT_EQ(preempted, 1) << log;
}

// A cell directory made a link to another directory: the sweep refuses to start, naming it,
// and writes nothing through it.
TEST(Sweep, ACellDirectoryThatIsALinkIsRefused) {
  const std::string dir = fresh_dir("cell-link");
  const std::string elsewhere = fresh_dir("cell-link-target");
  fs::create_directories(elsewhere);
  std::ofstream(elsewhere + "/metrics.csv") << "not Journey's";
  fs::create_directories(dir + "/cells");
  fs::create_directory_symlink(elsewhere, dir + "/cells/32x1x2-dense-tpp1.5-seed0");
  testing::ProcessResult r = run_process(sweep_command(3, 1, dir));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(dir + "/cells/32x1x2-dense-tpp1.5-seed0: it is a symbolic link"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(testing::read_file(elsewhere + "/metrics.csv"), "not Journey's");
  EXPECT_EQ(std::distance(fs::directory_iterator(elsewhere), fs::directory_iterator()), 1);
}

// A per-size batch with fewer sequences than a group has ranks fails every cell of that size:
// refused by the dry run and the sweep alike, naming the cell, before anything runs.
TEST(Sweep, ABatchSmallerThanTheGroupIsRefusedBeforeAnyCellRuns) {
  const std::string dir = fresh_dir("small-batch");
  for (const std::string& mode : {std::string("--dry-run --ranks 5"), "--out " + dir}) {
    testing::ProcessResult r =
        run_process(journey_command("sweep --config " + sweep_config() + " --group-size 2 " + mode +
                                    " '--sweep.batch_tokens=32x1x2:32 48x1x2:256'"));
    EXPECT_EQ(r.exit_code, 2) << mode << "\n" << r.output;
    EXPECT_NE(r.output.find("cell 32x1x2-"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("fewer than the 2 ranks of a group"), std::string::npos) << r.output;
  }
  EXPECT_FALSE(fs::exists(dir + "/ledger.json"));
}

// The dry run checks the dataset as a launch would (a missing one is an error naming it, not
// a table), shows each cell's lr, batch and epochs, and warns about cells that repeat data.
TEST(Sweep, DryRunChecksTheDatasetAndWarnsAboutRepeatedData) {
  const std::string base = "sweep --config " + sweep_config() + " --dry-run --ranks 3 ";
  testing::ProcessResult missing =
      run_process(journey_command(base + "--data.dir=/nonexistent-journey-dataset"));
  EXPECT_NE(missing.exit_code, 0) << missing.output;
  EXPECT_NE(missing.output.find("/nonexistent-journey-dataset"), std::string::npos)
      << missing.output;
  EXPECT_EQ(missing.output.find("cells on"), std::string::npos) << missing.output;

  testing::ProcessResult r = run_process(journey_command(base));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(" lr   batch"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("repeated data"), std::string::npos) << r.output;
  testing::ProcessResult repeated =
      run_process(journey_command(base + "--sweep.tokens_per_param=400"));
  ASSERT_EQ(repeated.exit_code, 0) << repeated.output;
  EXPECT_NE(repeated.output.find("warning: 48x1x2-dense-tpp400-seed0: reads the training data"),
            std::string::npos)
      << repeated.output;
  // Cells that never checkpoint on their own lose their progress to a crash: said once.
  const std::string no_checkpoints = "warning: train.checkpoint_every = 0: cells checkpoint only";
  EXPECT_EQ(repeated.output.find(no_checkpoints), std::string::npos) << repeated.output;
  testing::ProcessResult none = run_process(journey_command(base + "--train.checkpoint_every=0"));
  ASSERT_EQ(none.exit_code, 0) << none.output;
  EXPECT_NE(none.output.find(no_checkpoints), std::string::npos) << none.output;
  EXPECT_EQ(none.output.find(no_checkpoints), none.output.rfind(no_checkpoints)) << none.output;
}

// The dry run ends with the compute in FLOP and, for a GPU sweep, needs a stated throughput
// for its wall time and GPU-hours (nothing is measured: a login node has no GPU); on the CPU
// it measures this machine's matmul.
TEST(Sweep, DryRunEstimatesTimeAndGpuHours) {
  const std::string base = "sweep --config " + sweep_config() + " --dry-run --ranks 3 ";
  testing::ProcessResult cpu = run_process(journey_command(base));
  ASSERT_EQ(cpu.exit_code, 0) << cpu.output;
  EXPECT_NE(cpu.output.find("FLOP executed in all"), std::string::npos) << cpu.output;
  EXPECT_NE(cpu.output.find("estimated wall time"), std::string::npos) << cpu.output;
  EXPECT_NE(cpu.output.find("(measured float32 matmul on this machine's CPU) x 30% MFU"),
            std::string::npos)
      << cpu.output;
  EXPECT_EQ(cpu.output.find("GPU-hours"), std::string::npos) << cpu.output;

  testing::ProcessResult unknown = run_process(journey_command(base + "--train.device=cuda"));
  ASSERT_EQ(unknown.exit_code, 0) << unknown.output;
  EXPECT_NE(unknown.output.find("no time estimate: train.device is cuda"), std::string::npos)
      << unknown.output;
  EXPECT_EQ(unknown.output.find("estimated wall time"), std::string::npos) << unknown.output;

  testing::ProcessResult stated =
      run_process(journey_command(base + "--train.device=cuda --peak-flops 1e12 --mfu 0.5"));
  ASSERT_EQ(stated.exit_code, 0) << stated.output;
  EXPECT_NE(stated.output.find(" rank(s), one GPU each: "), std::string::npos) << stated.output;
  EXPECT_NE(stated.output.find("at 1e+12 FLOP/s peak per rank (--peak-flops) x 50% MFU"),
            std::string::npos)
      << stated.output;
  EXPECT_NE(stated.output.find("estimated GPU-hours "), std::string::npos) << stated.output;

  testing::ProcessResult bad = run_process(journey_command(base + "--mfu 2"));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--mfu must lie in (0, 1]"), std::string::npos) << bad.output;
}

TEST(Sweep, DryRunListsCellsWithTheirSchedules) {
  testing::ProcessResult r = run_process(journey_command("sweep --config " + sweep_config() +
                                                         " --dry-run --ranks 5 "
                                                         "--group-size 2"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("6 cells on 2 group(s) of 2 rank(s)"), std::string::npos) << r.output;
  // The same numbers `journey schedule` prints for one of the cells.
  testing::ProcessResult s = run_process(
      journey_command("schedule --config " + sweep_config() +
                      " --model.d_model=48 --model.n_layers=1 "
                      "--model.n_heads=2 --prune.sparsity=0.8 --train.tokens_per_param=1.5"));
  ASSERT_EQ(s.exit_code, 0) << s.output;
  const size_t t_s = s.output.find("t_s ") + 4;
  const std::string start = s.output.substr(t_s, s.output.find(' ', t_s) - t_s);
  std::istringstream lines(r.output);
  std::string line;
  bool found = false;
  while (std::getline(lines, line)) {
    if (line.rfind("48x1x2-sp0.8-geometric", 0) != 0) continue;
    std::istringstream fields(line);
    std::string id, steps, ts;
    fields >> id >> steps >> ts;
    EXPECT_EQ(ts, start) << line;
    found = true;
  }
  EXPECT_TRUE(found) << r.output;
}

TEST(Sweep, AnotherConfigOnAnExistingDirectoryIsRefused) {
  testing::ProcessResult r = run_process(sweep_command(3, 1, reference_sweep(), "--train.lr=0.01"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("different config"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("lr"), std::string::npos) << r.output;
}

// A directory with results but no ledger (a published or merged results directory, which
// `journey report DIR` reads) is not a sweep to resume: writing there would replace its
// results.csv and results.h5. Refused before anything runs, the files left as they were.
TEST(Sweep, AResultsDirectoryWithoutALedgerIsRefusedAndKept) {
  const std::string dir = fresh_dir("results-without-ledger");
  fs::create_directories(dir);
  for (const std::string name : {"results.csv", "results.h5", "fit.json"}) {
    fs::copy_file(reference_sweep() + "/" + name, dir + "/" + name);
  }
  const std::string csv = testing::read_file(dir + "/results.csv");
  const std::string h5 = testing::read_file(dir + "/results.h5");
  for (const std::string mode : {"", "--dry-run"}) {
    testing::ProcessResult r = run_process(sweep_command(3, 1, dir, mode));
    EXPECT_EQ(r.exit_code, 2) << mode << "\n" << r.output;
    EXPECT_NE(r.output.find(dir + " holds results.csv but no ledger.json"), std::string::npos)
        << r.output;
  }
  EXPECT_EQ(testing::read_file(dir + "/results.csv"), csv);
  EXPECT_EQ(testing::read_file(dir + "/results.h5"), h5);
  EXPECT_FALSE(fs::exists(dir + "/ledger.json"));
  EXPECT_FALSE(fs::exists(dir + "/cells"));
}

// A sweep continues only on its own data: the same dataset moved elsewhere is accepted, the
// same text split differently (same tokenizer) is refused before anything runs. A ledger
// written before the data was recorded is checked on the tokenizer alone.
TEST(Sweep, ASweepDirectoryContinuesOnlyOnItsData) {
  const std::string dir = fresh_dir("other-data");
  fs::copy(reference_sweep(), dir, fs::copy_options::recursive);
  const std::string moved = fresh_dir("moved-data");
  fs::remove_all(moved);
  fs::copy(testing::test_dataset_dir(), moved, fs::copy_options::recursive);
  const std::string other = testing::other_test_dataset_dir();
  const std::string ledger = testing::read_file(dir + "/ledger.json");
  ASSERT_NE(ledger.find("val.tokens: "), std::string::npos) << "no data in the identity";

  testing::ProcessResult r = run_process(sweep_command(3, 1, dir, "--dry-run --data.dir=" + moved));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const std::string mode : {"", "--dry-run"}) {
    r = run_process(sweep_command(3, 1, dir, mode + " --data.dir=" + other));
    EXPECT_EQ(r.exit_code, 2) << mode << "\n" << r.output;
    EXPECT_NE(r.output.find(dir + " holds a sweep trained on other data (it has dataset.data = "
                                  "train.tokens: "),
              std::string::npos)
        << r.output;
  }
  EXPECT_EQ(testing::read_file(dir + "/ledger.json"), ledger);

  nlohmann::json old = nlohmann::json::parse(ledger);
  std::string identity = old["identity"];
  const size_t data = identity.find("\ndata = ");
  ASSERT_NE(data, std::string::npos);
  identity.erase(data, identity.find('\n', data + 1) - data);
  old["identity"] = identity;
  std::ofstream(dir + "/ledger.json") << old.dump(1);
  r = run_process(sweep_command(3, 1, dir, "--dry-run --data.dir=" + other));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// A sweep directory grows: a grid that only adds cells runs the new ones and keeps the
// results it has; a grid that would change a cell it holds (here the larger size's lr) is
// refused before anything runs.
TEST(Sweep, AGridThatAddsCellsGrowsTheSweepAndOneThatChangesCellsIsRefused) {
  const std::string dir = fresh_dir("grown");
  fs::copy(reference_sweep(), dir, fs::copy_options::recursive);
  const auto before = read_results(dir);
  const std::string ledger_before = testing::read_file(dir + "/ledger.json");
  testing::ProcessResult r =
      run_process(sweep_command(3, 1, dir, "--sweep.sparsities=0.9 '--sweep.sizes=32x1x2 48x1x2'"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto rows = read_results(dir);
  ASSERT_EQ(rows.size(), 8u) << r.output;
  // sweep.ini is the latest grid's, and says that the directory holds more.
  const std::string sweep_ini = testing::read_file(dir + "/sweep.ini");
  EXPECT_NE(sweep_ini.find("sparsities = 0.9\n"), std::string::npos) << sweep_ini;
  EXPECT_EQ(sweep_ini.rfind("# The grid of the latest launch. This directory also holds 6 cell(s) "
                            "of earlier grids",
                            0),
            0u)
      << sweep_ini;
  for (auto& [id, row] : before) {
    EXPECT_EQ(rows.at(id), row) << id << ": a cell it had changed";
    EXPECT_EQ(r.output.find("cell " + id + " done"), std::string::npos) << id << " ran again";
  }
  for (const std::string id : {"32x1x2-sp0.9-geometric-p25-75-tpp1.5-seed0",
                               "48x1x2-sp0.9-geometric-p25-75-tpp1.5-seed0"}) {
    ASSERT_EQ(rows.count(id), 1u) << id << "\n" << r.output;
    EXPECT_EQ(rows[id]["status"], "done") << id;
    EXPECT_NE(r.output.find("cell " + id + " done"), std::string::npos) << r.output;
  }

  const std::string ledger_grown = testing::read_file(dir + "/ledger.json");
  r = run_process(sweep_command(3, 1, dir, "'--sweep.lr=32x1x2:3e-3 48x1x2:1e-3'"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("holds cell 48x1x2-"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("it was run with lr 0.003, batch 256 tokens, this config gives it lr "
                          "0.001, batch 256 tokens"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(testing::read_file(dir + "/ledger.json"), ledger_grown);
  EXPECT_NE(ledger_before, ledger_grown);
}

// sweep.lrs: each (size, rate) is its own cells; at the end the law is fitted on each size's
// best rate (journey fit --select best-lr), and fit.json says which rate each size kept. A
// rate added later is new cells: the directory grows, and the cells it had do not run again.
TEST(Sweep, LearningRateAxisRunsEachRateAndFitsEachSizesBest) {
  const std::string dir = fresh_dir("lrs");
  // Nine cells: 32x1x2 at two rates, 48x1x2 at one, each (dense, 0.5, 0.8); six after the
  // selection, as many as a fit needs.
  testing::ProcessResult r =
      run_process(sweep_command(3, 1, dir, "'--sweep.lrs=32x1x2:3e-3,1e-2 48x1x2:3e-3'"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto rows = read_results(dir);
  ASSERT_EQ(rows.size(), 9u) << r.output;
  for (const auto& [size, rate, suffix] :
       std::vector<std::tuple<std::string, double, std::string>>{{"32x1x2", 3e-3, "-lr0.003"},
                                                                 {"32x1x2", 1e-2, "-lr0.01"},
                                                                 {"48x1x2", 3e-3, "-lr0.003"}}) {
    for (const std::string& id : {size + "-dense-tpp1.5-seed0" + suffix,
                                  size + "-sp0.5-geometric-p25-75-tpp1.5-seed0" + suffix,
                                  size + "-sp0.8-geometric-p25-75-tpp1.5-seed0" + suffix}) {
      ASSERT_EQ(rows.count(id), 1u) << id << "\n" << r.output;
      EXPECT_EQ(rows[id]["status"], "done") << id;
      EXPECT_DOUBLE_EQ(std::stod(rows[id]["lr"]), rate) << id;
    }
  }
  EXPECT_NE(r.output.find("fit: 32x1x2 trained at several learning rates"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("--select best-lr"), std::string::npos) << r.output;
  const nlohmann::json fit = nlohmann::json::parse(testing::read_file(dir + "/fit.json"));
  std::vector<std::string> selections;
  for (const std::string note : fit.at("notes")) {
    if (note.rfind("lr selection: ", 0) == 0) selections.push_back(note);
  }
  ASSERT_EQ(selections.size(), 2u) << fit.dump(2);
  EXPECT_TRUE(selections[0].rfind("lr selection: 32x1x2 keeps lr 0.003 ", 0) == 0 ||
              selections[0].rfind("lr selection: 32x1x2 keeps lr 0.01 ", 0) == 0)
      << selections[0];
  EXPECT_NE(selections[0].find("3 runs kept, 3 dropped"), std::string::npos) << selections[0];
  EXPECT_NE(selections[1].find("48x1x2 keeps lr 0.003 (its only rate)"), std::string::npos)
      << selections[1];

  // A second rate for the larger size: three new cells, and the nine it had stay as they were.
  r = run_process(sweep_command(3, 1, dir, "'--sweep.lrs=32x1x2:3e-3,1e-2 48x1x2:3e-3,1e-2'"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto grown = read_results(dir);
  ASSERT_EQ(grown.size(), 12u) << r.output;
  for (auto& [id, row] : rows) {
    EXPECT_EQ(grown.at(id), row) << id << ": a cell it had changed";
    EXPECT_EQ(r.output.find("cell " + id + " done"), std::string::npos) << id << " ran again";
  }
  for (const std::string id :
       {"48x1x2-dense-tpp1.5-seed0-lr0.01", "48x1x2-sp0.8-geometric-p25-75-tpp1.5-seed0-lr0.01"}) {
    ASSERT_EQ(grown.count(id), 1u) << id;
    EXPECT_EQ(grown.at(id).at("status"), "done") << id;
  }
  EXPECT_NE(r.output.find("fit: 32x1x2, 48x1x2 trained at several learning rates"),
            std::string::npos)
      << r.output;
}

TEST(Sweep, OutputPathThatIsAFileIsRefusedByEveryRank) {
  // Once refused only by the coordinator, after the workers had started waiting for it: the
  // launch hung.
  const std::string file = fresh_dir("out-file") + ".txt";
  std::ofstream(file) << "results of something else\n";
  testing::ProcessResult r = run_process("timeout 120 env " + sweep_command(3, 1, file));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--out " + file + " exists and is not a directory"), std::string::npos)
      << r.output;
  EXPECT_EQ(testing::read_file(file), "results of something else\n");
}

TEST(Sweep, WrongWorldSizeIsRefused) {
  testing::ProcessResult r = run_process(sweep_command(4, 2, fresh_dir("world")));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("1 + G*k"), std::string::npos) << r.output;
}

// Regressions (tests/fuzz/regressions/ledger/): numbers beyond an integer key's range were
// converted with a bare cast (undefined behaviour; on x86 a wrong number, and exit 0), or a
// 64-bit unsigned one read as -1. Every reader of the ledger refuses them as `journey status`
// does: exit 1 naming the file.
TEST(Sweep, LedgerNumbersBeyondTheirKeysRangeAreRefused) {
  const fs::path inputs = fs::path(JOURNEY_SOURCE_DIR) / "tests/fuzz/regressions/ledger";
  int ledgers = 0;
  for (const fs::directory_entry& input : fs::directory_iterator(inputs)) {
    const std::string dir = fresh_dir("ledger-" + input.path().stem().string());
    fs::create_directories(dir);
    fs::copy_file(input.path(), dir + "/ledger.json");
    testing::ProcessResult r = run_process(journey_command("status " + dir));
    EXPECT_EQ(r.exit_code, 1) << input.path() << "\n" << r.output;
    EXPECT_NE(r.output.find(dir + "/ledger.json"), std::string::npos) << r.output;
    ++ledgers;
  }
  EXPECT_EQ(ledgers, 4);
}

}  // namespace
}  // namespace journey
