// `journey submit` and `journey status` without a cluster: the job script's checks and
// rendering, the parsing of what Slurm's commands print, a sweep directory's job list and the
// cells' progress files; then both commands through the binary, with a stand-in sbatch that
// records whether it was called. tests/slurm_test.cpp runs them against a real Slurm.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "data/dataset.h"
#include "run/run_progress.h"
#include "schedules/grid.h"
#include "slurm/job_script.h"
#include "slurm/slurm_client.h"
#include "slurm/submitted_jobs.h"
#include "sweep/cell_progress.h"
#include "sweep/ledger.h"
#include "tests/subprocess.h"
#include "tests/test_dataset.h"
#include "tests/test_files.h"

namespace journey {
namespace {

namespace fs = std::filesystem;
using testing::journey_command;
using testing::read_file;
using testing::run_process;

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "journey-slurm-unit-" + name;
  fs::remove_all(dir);
  return dir;
}

std::string fresh_file(const std::string& name) {
  const std::string path = ::testing::TempDir() + "journey-slurm-unit-" + name;
  fs::remove(path);
  return path;
}

// The message of the UsageError `f` throws ("" if it throws none).
template <class F>
std::string usage_error(F f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

JobRequest good_request() {
  JobRequest r;
  r.nodes = 1;
  r.ranks_per_node = 5;
  r.group_size = 2;
  r.threads_per_rank = 3;
  r.time = "1:00:00";
  r.warn_before_s = 300;
  r.max_requeues = 7;
  r.job_name = "journey-test";
  r.journey_binary = "/opt/journey/bin/journey";
  r.config_path = "/scratch/sweep/job.ini";
  r.out_dir = "/scratch/sweep";
  return r;
}

TEST(SlurmJobScript, TimeLimitsInEverySlurmFormat) {
  EXPECT_EQ(parse_time_limit("90"), 90 * 60);
  EXPECT_EQ(parse_time_limit("1:30"), 90);
  EXPECT_EQ(parse_time_limit("2:00:00"), 7200);
  EXPECT_EQ(parse_time_limit("1-12"), 36 * 3600);
  EXPECT_EQ(parse_time_limit("1-0:30"), 86400 + 1800);
  EXPECT_EQ(parse_time_limit("2-1:02:03"), 2 * 86400 + 3600 + 120 + 3);
  EXPECT_EQ(parse_time_limit("600"), 600 * 60);  // Only the leading field may exceed 59.
  for (const char* bad : {"", "abc", "1:2:3:4", "-5", "1-", "1.5", "1h", "UNLIMITED", "1::2",
                          "1:99:00", "5:60", "1-24", "1-1:60", "0:0:75"}) {
    EXPECT_TRUE(contains(usage_error([&] { parse_time_limit(bad); }), "--time")) << bad;
  }
  EXPECT_TRUE(contains(usage_error([] { parse_time_limit("0:00:00"); }), "longer than zero"));
}

TEST(SlurmJobScript, LayoutMustBeACoordinatorPlusWholeGroups) {
  EXPECT_EQ(worker_groups(1, 5, 2), 2);
  EXPECT_EQ(worker_groups(1, 3, 1), 2);
  EXPECT_EQ(worker_groups(3, 3, 4), 2);  // 9 = 1 + 2 * 4
  const std::string even = usage_error([] { worker_groups(1, 4, 2); });
  EXPECT_TRUE(contains(even, "1 + G*k")) << even;
  EXPECT_TRUE(contains(even, "--ranks-per-node 3, 5 or 7 would fit")) << even;
  // With 2 nodes, 2R - 1 is odd: no R makes it a multiple of 2.
  const std::string none = usage_error([] { worker_groups(2, 4, 2); });
  EXPECT_TRUE(contains(none, "no --ranks-per-node fits")) << none;
  EXPECT_FALSE(usage_error([] { worker_groups(1, 1, 1); }).empty());  // No room for a group.
  EXPECT_TRUE(contains(usage_error([] { worker_groups(0, 5, 2); }), "--nodes"));
  EXPECT_TRUE(contains(usage_error([] { worker_groups(1, 5, 0); }), "--group-size"));
}

TEST(SlurmJobScript, RequestChecksNameTheOption) {
  EXPECT_EQ(usage_error([] { validate_job_request(good_request()); }), "");
  auto with = [](auto change) {
    JobRequest r = good_request();
    change(r);
    return usage_error([&] { validate_job_request(r); });
  };
  // The warning may come a minute early: a 5-minute job with a 300 s warning never trains.
  const std::string short_time = with([](JobRequest& r) { r.time = "5"; });
  EXPECT_TRUE(contains(short_time, "--warn-before 300")) << short_time;
  EXPECT_TRUE(contains(short_time, "360 s")) << short_time;
  EXPECT_EQ(with([](JobRequest& r) { r.time = "7"; }), "");
  EXPECT_TRUE(contains(with([](JobRequest& r) { r.time = "soon"; }), "--time 'soon'"));
  EXPECT_TRUE(contains(with([](JobRequest& r) { r.warn_before_s = 70000; }), "--warn-before"));
  EXPECT_TRUE(contains(with([](JobRequest& r) { r.threads_per_rank = 0; }), "--threads-per-rank"));
  EXPECT_TRUE(contains(with([](JobRequest& r) { r.max_requeues = -1; }), "--max-requeues"));
  EXPECT_TRUE(contains(with([](JobRequest& r) { r.partition = "gpu a"; }), "--partition"));
  EXPECT_TRUE(contains(with([](JobRequest& r) { r.out_dir = "/scratch/my sweep"; }), "#SBATCH"));
  EXPECT_TRUE(contains(with([](JobRequest& r) { r.out_dir = "/scratch/%j"; }), "'%'"));
  EXPECT_TRUE(contains(with([](JobRequest& r) { r.job_name = "a b"; }), "--job-name"));
  EXPECT_TRUE(contains(with([](JobRequest& r) { r.ranks_per_node = 4; }), "1 + G*k"));
}

TEST(SlurmJobScript, BuiltInTemplateRendersEveryValue) {
  JobRequest r = good_request();
  r.nodes = 3;
  r.ranks_per_node = 3;
  r.group_size = 4;
  r.partition = "gpu";
  r.journey_binary = "/opt/my journey/journey";
  const std::string script = render_job_script(builtin_job_template(), "built-in", r);
  EXPECT_FALSE(contains(script, "{{")) << script;
  for (const char* line :
       {"#SBATCH --nodes=3\n", "#SBATCH --ntasks-per-node=3\n", "#SBATCH --cpus-per-task=3\n",
        "#SBATCH --time=1:00:00\n", "#SBATCH --partition=gpu\n", "#SBATCH --requeue\n",
        "#SBATCH --signal=USR2@300\n", "#SBATCH --open-mode=append\n",
        "#SBATCH --output=/scratch/sweep/logs/job-%j.out\n", "#SBATCH --job-name=journey-test\n",
        "max_requeues=7\n", "export HDF5_USE_FILE_LOCKING=FALSE\n",
        "srun --mpi=pmix --kill-on-bad-exit=0 '/opt/my journey/journey' sweep --config "
        "/scratch/sweep/job.ini",
        "--group-size 4 --out /scratch/sweep\n", "scontrol requeue \"$SLURM_JOB_ID\""}) {
    EXPECT_TRUE(contains(script, line)) << "missing: " << line << "\n" << script;
  }
  // The ranks get the warning themselves; a "B:" signal would stop at the batch shell.
  EXPECT_FALSE(contains(script, "B:USR2"));
  EXPECT_FALSE(contains(script, "--account"));
  // Without site options, no blank line splits the #SBATCH block.
  r.partition.clear();
  const std::string plain = render_job_script(builtin_job_template(), "built-in", r);
  EXPECT_TRUE(contains(plain, "#SBATCH --time=1:00:00\n#SBATCH --chdir=")) << plain;
  r.account = "proj42";
  EXPECT_TRUE(contains(render_job_script(builtin_job_template(), "built-in", r),
                       "#SBATCH --account=proj42\n"));

  // And bash accepts it.
  const std::string path = fresh_file("script.sh");
  std::ofstream(path) << script;
  const testing::ProcessResult syntax = run_process("bash -n " + path);
  EXPECT_EQ(syntax.exit_code, 0) << syntax.output;
}

TEST(SlurmJobScript, TemplatePlaceholdersMustBeKnown) {
  const JobRequest r = good_request();
  EXPECT_EQ(render_job_script("a {{NODES}} b {{TIME}}", "t", r), "a 1 b 1:00:00");
  const std::string typo = usage_error([&] { render_job_script("{{NODE}}", "site.sbatch", r); });
  EXPECT_TRUE(contains(typo, "site.sbatch")) << typo;
  EXPECT_TRUE(contains(typo, "{{NODE}}")) << typo;
  EXPECT_TRUE(contains(typo, "NODES")) << typo;  // What it could have meant.
  EXPECT_TRUE(contains(usage_error([&] { render_job_script("x {{NODES", "t", r); }), "'{{'"));
}

TEST(SlurmJobScript, ShellQuotingAndJobNames) {
  EXPECT_EQ(shell_quote("/a/b-c_d.ini"), "/a/b-c_d.ini");
  EXPECT_EQ(shell_quote("/a b"), "'/a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("$(rm)"), "'$(rm)'");
  EXPECT_EQ(sanitize_job_name("journey-my sweep/1"), "journey-my_sweep_1");
}

TEST(SlurmClient, ParsesWhatSlurmPrints) {
  EXPECT_EQ(parse_sbatch_job_id("123\n"), "123");
  EXPECT_EQ(parse_sbatch_job_id("123;cluster\n"), "123");
  EXPECT_EQ(parse_sbatch_job_id(""), "");
  EXPECT_EQ(parse_sbatch_job_id("sbatch: error: invalid partition\n"), "");

  const std::optional<SlurmJob> job = parse_scontrol_job(
      "JobId=17 JobName=journey-x UserId=root(0) JobState=PENDING Reason=BeginTime "
      "Dependency=(null) Requeue=1 Restarts=2 BatchFlag=1 RunTime=00:00:00 "
      "TimeLimit=00:10:00 Command=/scratch/my sweep/job.sbatch");
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->id, "17");
  EXPECT_EQ(job->state, "PENDING");
  EXPECT_EQ(job->reason, "BeginTime");
  EXPECT_EQ(job->restarts, 2);
  EXPECT_EQ(job->time_limit, "00:10:00");
  EXPECT_FALSE(parse_scontrol_job("slurm_load_jobs error: Invalid job id specified"));

  for (const char* state : {"PENDING", "RUNNING", "REQUEUED", "COMPLETING", "SUSPENDED"}) {
    EXPECT_TRUE(is_job_active(state)) << state;
  }
  for (const char* state :
       {"COMPLETED", "CANCELLED", "CANCELLED by 0", "TIMEOUT", "FAILED", "NODE_FAIL", ""}) {
    EXPECT_FALSE(is_job_active(state)) << state;
  }

  const std::string sinfo = "debug* 8\nbig 64+\nbig 32\n";
  EXPECT_EQ(parse_sinfo_cpus(sinfo, ""), 8);
  EXPECT_EQ(parse_sinfo_cpus(sinfo, "big"), 32);
  EXPECT_EQ(parse_sinfo_cpus(sinfo, "nope"), 0);
}

TEST(SlurmClient, RunsProgramsWithoutAShell) {
  const ProgramOutput r = run_program({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  // An argument with spaces and quotes arrives as one word.
  EXPECT_EQ(run_program({"printf", "%s", "a 'b' c"}).out, "a 'b' c");
  EXPECT_EQ(run_program({"/nonexistent/program"}).exit_code, 127);
  EXPECT_FALSE(find_program("sh").empty());
  EXPECT_TRUE(find_program("no-such-program-journey").empty());
}

TEST(SlurmClient, SubmittedJobsAreAppended) {
  const std::string dir = fresh_dir("jobs");
  fs::create_directories(dir);
  EXPECT_TRUE(submitted_job_ids(dir).empty());
  record_submitted_job(dir, "12", "first");
  record_submitted_job(dir, "13", "second");
  EXPECT_EQ(submitted_job_ids(dir), (std::vector<std::string>{"12", "13"}));
  std::ifstream in(submitted_jobs_path(dir));
  std::string first;
  std::getline(in, first);
  EXPECT_TRUE(contains(first, "12 ")) << first;
  EXPECT_TRUE(contains(first, "first")) << first;
}

TEST(CellProgress, ProgressFileElseMetricsRow) {
  const std::string dir = fresh_dir("progress");
  fs::create_directories(dir);
  EXPECT_FALSE(read_cell_progress(dir));
  std::ofstream(dir + "/metrics.csv") << "step,loss,active,density,tokens\n0,6.1,10,1,64\n"
                                      << "24,5.5,10,1,1600\n";
  std::optional<CellProgress> p = read_cell_progress(dir);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->step, 25);  // Rows count steps from 0.
  EXPECT_DOUBLE_EQ(p->loss, 5.5);
  EXPECT_EQ(p->source, "metrics.csv");
  write_run_progress(dir, {"c", 60, 100, 4.25, 1e-3, 1.0, 5000, 0.1, 12});
  p = read_cell_progress(dir);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->step, 60);
  EXPECT_EQ(p->total_steps, 100);
  EXPECT_DOUBLE_EQ(p->loss, 4.25);
  EXPECT_EQ(p->source, "progress.json");
  // A progress file without a step is an error naming the key, not step 0.
  std::ofstream(dir + "/progress.json") << R"({"cell_id": "c", "total_steps": 100})";
  try {
    read_cell_progress(dir);
    FAIL() << "a progress.json without its keys was read";
  } catch (const DataError& e) {
    EXPECT_TRUE(contains(e.what(), "'step'")) << e.what();
  }
}

// --- Through the binary, with a stand-in sbatch ---------------------------------------

void write_program(const std::string& path, const std::string& script) {
  std::ofstream(path) << "#!/bin/sh\n" << script;
  chmod(path.c_str(), 0755);
}

// Stand-ins for Slurm's commands, so no real cluster is asked: an `sbatch` that records its
// arguments in `calls` and prints a job id, an `scontrol` that knows no job and an `sinfo`
// with one 12-CPU partition.
// One per test, so that tests may run in parallel processes (ctest -j).
std::string fake_slurm_dir(const std::string& calls) {
  const std::string dir = fresh_dir(
      std::string("fake-bin-") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::create_directories(dir);
  write_program(dir + "/sbatch", "echo \"$@\" >> '" + calls + "'\necho 4242\n");
  write_program(dir + "/scontrol", "echo 'slurm_load_jobs error: Invalid job id' >&2\nexit 1\n");
  write_program(dir + "/sinfo", "echo 'debug* 12'\n");
  return dir;
}

// Written once per process, and atomically: parallel test processes share the file.
std::string tiny_config() {
  static const std::string path = [] {
    const std::string final_path = ::testing::TempDir() + "journey-slurm-unit.ini";
    const std::string temp = final_path + ".tmp-" + std::to_string(getpid());
    std::ofstream(temp) << "[model]\nseq_len = 32\n"
                        << "[train]\nbatch_tokens = 256\nthreads = 1\n"
                        << "[data]\ndir = " << testing::test_dataset_dir()
                        << "\nvocab_size = " << testing::kTestVocab << "\n"
                        << "[sweep]\nsizes = 32x1x2\nsparsities = 0 0.5\n"
                        << "tokens_per_param = 1.5\n";
    fs::rename(temp, final_path);
    return final_path;
  }();
  return path;
}

// `journey submit` with the stand-ins first on PATH.
testing::ProcessResult submit(const std::string& fake_bin, const std::string& flags) {
  return run_process("PATH=" + fake_bin + ":$PATH " + journey_command("submit " + flags));
}

TEST(SubmitCli, BadOptionsFailBeforeSbatchWithExit2) {
  const std::string calls = fresh_file("calls.txt");
  const std::string bin = fake_slurm_dir(calls);
  const std::string out = fresh_dir("bad-out");
  const std::string base = "--config " + tiny_config() + " --out " + out + " ";
  struct Case {
    std::string flags, message;
  };
  for (const Case& c : std::vector<Case>{
           {"--ranks-per-node 4 --group-size 2 --time 10", "1 + G*k"},
           {"--ranks-per-node 3 --time 1h", "--time '1h'"},
           {"--ranks-per-node 3 --time 5", "--warn-before 300"},
           {"--ranks-per-node 3 --time 10 --train.lr=-1", "train.lr"},
           {"--ranks-per-node 3 --time 10 --data.dir=/nonexistent", "data.dir = /nonexistent"},
           {"--ranks-per-node 3 --time 10 --template /nonexistent.sbatch", "/nonexistent.sbatch"},
           {"--time 10", "--ranks-per-node"},
           {"--ranks-per-node 3", "--time"}}) {
    const testing::ProcessResult r = submit(bin, base + c.flags);
    EXPECT_EQ(r.exit_code, 2) << c.flags << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, c.message)) << c.flags << "\n" << r.output;
  }
  const testing::ProcessResult no_config = submit(bin, "--ranks-per-node 3 --time 10");
  EXPECT_EQ(no_config.exit_code, 2);
  EXPECT_TRUE(contains(no_config.output, "--config")) << no_config.output;
  EXPECT_FALSE(fs::exists(calls)) << "sbatch was called";
  EXPECT_FALSE(fs::exists(out)) << "a refused submit wrote " << out;

  // The same stand-in is called when the options are good, so the checks above can fail.
  const testing::ProcessResult good = submit(bin, base + "--ranks-per-node 3 --time 10");
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_TRUE(fs::exists(calls));
}

TEST(SubmitCli, SubmitWritesTheJobAndRecordsItsId) {
  const std::string calls = fresh_file("calls-good.txt");
  const std::string bin = fake_slurm_dir(calls);
  const std::string out = fresh_dir("good-out");
  const testing::ProcessResult r =
      submit(bin, "--config " + tiny_config() + " --out " + out +
                      " --ranks-per-node 3 --time 1:00:00 --partition debug --max-requeues 4 "
                      "--train.lr=0.002");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "submitted job 4242")) << r.output;
  EXPECT_TRUE(contains(r.output, out + "/logs/job-4242.out")) << r.output;
  EXPECT_EQ(submitted_job_ids(out), std::vector<std::string>{"4242"});
  std::ifstream in(calls);
  std::string args((std::istreambuf_iterator<char>(in)), {});
  // Everything that shapes the job is on sbatch's command line, where SBATCH_* variables
  // cannot override it.
  EXPECT_EQ(args, "--parsable --job-name=journey-" + fs::path(out).filename().string() +
                      " --nodes=1 --ntasks=3 --ntasks-per-node=3 --cpus-per-task=1 "
                      "--time=1:00:00 --chdir=" +
                      out + " --output=" + out + "/logs/job-%j.out --error=" + out +
                      "/logs/job-%j.out --open-mode=append --requeue --signal=USR2@300 "
                      "--partition=debug " +
                      out + "/job.sbatch\n");
  std::ifstream script_file(out + "/job.sbatch");
  std::string script((std::istreambuf_iterator<char>(script_file)), {});
  EXPECT_TRUE(contains(script, "#SBATCH --partition=debug\n")) << script;
  EXPECT_TRUE(contains(script, "max_requeues=4\n")) << script;
  EXPECT_TRUE(contains(script, "--config " + out + "/job.ini")) << script;
  // The job's config is the effective one: overrides applied, threads from the layout.
  const testing::ProcessResult config =
      run_process(journey_command("config --config " + out + "/job.ini"));
  ASSERT_EQ(config.exit_code, 0) << config.output;
  EXPECT_TRUE(contains(config.output, "lr = 0.002")) << config.output;
  EXPECT_TRUE(contains(config.output, "threads = 1")) << config.output;
  EXPECT_TRUE(fs::is_directory(out + "/logs"));

  // Before the job starts, status reports it without a ledger.
  const testing::ProcessResult status =
      run_process("PATH=" + bin + ":$PATH " + journey_command("status " + out));
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_TRUE(contains(status.output, "not started yet")) << status.output;
  EXPECT_TRUE(contains(status.output, "slurm job 4242")) << status.output;
}

TEST(SubmitCli, ThreadsDefaultToTheNodesCpusSharedByItsRanks) {
  const std::string bin = fake_slurm_dir(fresh_file("calls-threads.txt"));
  const std::string out = fresh_dir("threads-out");
  const testing::ProcessResult r = submit(bin, "--config " + tiny_config() + " --out " + out +
                                                   " --ranks-per-node 3 --time 10 "
                                                   "--train.threads=0");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "4 thread(s) per rank")) << r.output;  // 12 CPUs / 3 ranks
  std::ifstream script(out + "/job.sbatch");
  EXPECT_TRUE(contains(std::string((std::istreambuf_iterator<char>(script)), {}),
                       "#SBATCH --cpus-per-task=4\n"));
  const testing::ProcessResult config =
      run_process(journey_command("config --config " + out + "/job.ini"));
  EXPECT_TRUE(contains(config.output, "threads = 4")) << config.output;
}

TEST(SubmitCli, DryRunPrintsTheScriptAndWritesNothing) {
  const std::string out = fresh_dir("dry-out");
  const testing::ProcessResult r = run_process(
      "PATH=/nonexistent " + journey_command("submit --config " + tiny_config() + " --out " + out +
                                             " --ranks-per-node 3 --group-size 1 --time 30 "
                                             "--warn-before 120 --dry-run"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "#SBATCH --ntasks-per-node=3\n")) << r.output;
  EXPECT_TRUE(contains(r.output, "#SBATCH --signal=USR2@120\n")) << r.output;
  EXPECT_TRUE(contains(r.output, "2 cells on 2 group(s) of 1 rank(s)")) << r.output;
  EXPECT_TRUE(contains(r.output, " " + out + "/job.sbatch\n")) << r.output;
  EXPECT_FALSE(fs::exists(out));
  // The command line it prints can be pasted into a shell: the script path is quoted where a
  // shell would read it otherwise ('&' is allowed in #SBATCH paths).
  const std::string odd = fresh_dir("dry&out");
  const testing::ProcessResult quoted = run_process(
      "PATH=/nonexistent " + journey_command("submit --config " + tiny_config() + " --out '" + odd +
                                             "' --ranks-per-node 3 --time 30 --dry-run"));
  ASSERT_EQ(quoted.exit_code, 0) << quoted.output;
  EXPECT_TRUE(contains(quoted.output, " '" + odd + "/job.sbatch'\n")) << quoted.output;

  // A site's own template is rendered the same way; one with an unknown placeholder is refused.
  const std::string site = fresh_file("site.sbatch");
  std::ofstream(site) << "#!/bin/bash\n#SBATCH --gres=gpu:{{RANKS_PER_NODE}}\nsrun {{JOURNEY}}\n";
  const std::string flags = "submit --config " + tiny_config() + " --out " + out +
                            " --ranks-per-node 3 --time 30 --dry-run --template " + site;
  const testing::ProcessResult custom = run_process(journey_command(flags));
  ASSERT_EQ(custom.exit_code, 0) << custom.output;
  EXPECT_TRUE(contains(custom.output, "#SBATCH --gres=gpu:3\nsrun /")) << custom.output;
  std::ofstream(site) << "#SBATCH --nodes={{NODE_COUNT}}\n";
  const testing::ProcessResult typo = run_process(journey_command(flags));
  EXPECT_EQ(typo.exit_code, 2) << typo.output;
  EXPECT_TRUE(contains(typo.output, "{{NODE_COUNT}}")) << typo.output;
}

// Site-wide SBATCH_* variables once changed the time limit, requeue and signal the job ran
// with, silently; the command line now sets them, and the output says what was overridden.
TEST(SubmitCli, SbatchEnvironmentVariablesCannotChangeTheJob) {
  const std::string calls = fresh_file("calls-env.txt");
  const std::string bin = fake_slurm_dir(calls);
  const std::string out = fresh_dir("env-out");
  const testing::ProcessResult r = run_process(
      "SBATCH_TIMELIMIT=1 SBATCH_NO_REQUEUE=1 SBATCH_SIGNAL=USR1@5 SBATCH_QOS=low PATH=" + bin +
      ":$PATH " +
      journey_command("submit --config " + tiny_config() + " --out " + out +
                      " --ranks-per-node 3 --time 2:00:00"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string args = read_file(calls);
  EXPECT_TRUE(contains(args, "--time=2:00:00 ")) << args;
  EXPECT_TRUE(contains(args, "--requeue ")) << args;
  EXPECT_TRUE(contains(args, "--signal=USR2@300 ")) << args;
  EXPECT_TRUE(contains(r.output,
                       "SBATCH_TIMELIMIT=1 in the environment is overridden by the "
                       "job's --time"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "SBATCH_NO_REQUEUE=1 in the environment is overridden"));
  EXPECT_TRUE(contains(r.output, "SBATCH_QOS=low in the environment applies to the job"));
  // One that would break submission itself is refused.
  const testing::ProcessResult wait =
      run_process("SBATCH_WAIT=1 PATH=" + bin + ":$PATH " +
                  journey_command("submit --config " + tiny_config() + " --out " +
                                  fresh_dir("env-wait") + " --ranks-per-node 3 --time 2:00:00"));
  EXPECT_EQ(wait.exit_code, 2) << wait.output;
  EXPECT_TRUE(contains(wait.output, "unset SBATCH_WAIT")) << wait.output;
}

TEST(SubmitCli, OtherSbatchOptionsPassThroughWhenSafe) {
  const std::string calls = fresh_file("calls-pass.txt");
  const std::string bin = fake_slurm_dir(calls);
  const std::string out = fresh_dir("pass-out");
  const std::string base =
      "--config " + tiny_config() + " --ranks-per-node 3 --time 30 --out " + out + " ";
  const testing::ProcessResult r = submit(
      bin,
      base + "--sbatch-arg=--qos=high --sbatch-arg=--exclusive '--sbatch-arg=--constraint=a&b'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(read_file(calls), "--qos=high --exclusive --constraint=a&b "))
      << read_file(calls);
  EXPECT_TRUE(
      contains(read_file(out + "/job.sbatch"), "#SBATCH --qos=high\n#SBATCH --exclusive\n"));
  for (const auto& [flag, words] : std::vector<std::pair<std::string, std::string>>{
           {"--sbatch-arg=--time=5", "use --time"},
           {"--sbatch-arg=--signal=USR1@60", "use --warn-before"},
           {"--sbatch-arg=-q", "long form"},
           {"'--sbatch-arg=--comment=a b'", "without spaces"},
           {"$'--sbatch-arg=--mem=4G\n#SBATCH --time=1'", "without spaces"},
           {"--sbatch-arg=--export=NONE", "submitting environment"},
           // Prefixes sbatch expands to an option of ours.
           {"--sbatch-arg=--arr=0-1", "sbatch reads it as --array"},
           {"--sbatch-arg=--no-req", "sbatch reads it as --no-requeue"},
           {"--sbatch-arg=--outp=x.log", "sbatch reads it as --output"},
           {"--sbatch-arg=--sig=USR1@200", "sbatch reads it as --signal"},
           {"--sbatch-arg=-a", "long form"},
           {"--sbatch-arg=-o", "long form"}}) {
    const std::string other = fresh_dir("pass-bad");
    const testing::ProcessResult bad =
        run_process("bash -c \"PATH=" + bin + ":$PATH " +
                    journey_command("submit --config " + tiny_config() +
                                    " --ranks-per-node 3 --time 30 --out " + other + " ") +
                    flag + "\"");
    EXPECT_EQ(bad.exit_code, 2) << flag << "\n" << bad.output;
    EXPECT_TRUE(contains(bad.output, words)) << flag << "\n" << bad.output;
    EXPECT_FALSE(fs::exists(other)) << flag;
  }
}

TEST(SubmitCli, GpuJobsHaveOneRankPerGpuAndAHostFile) {
  const std::string out = fresh_dir("gpu-out");
  const std::string flags = "submit --config " + tiny_config() + " --out " + out +
                            " --nodes 2 --gpus-per-node 4 --group-size 4 --time 30 --dry-run";
  const testing::ProcessResult r = run_process("PATH=/nonexistent " + journey_command(flags));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output,
                       "#SBATCH --ntasks=9\n#SBATCH --ntasks-per-node=5\n"
                       "#SBATCH --gpus-per-node=4\n#SBATCH --gpu-bind=none\n"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "srun --mpi=pmix --kill-on-bad-exit=0 --distribution=arbitrary"));
  EXPECT_TRUE(contains(r.output, "2 node(s) x 4 GPU(s), one rank per GPU plus the coordinator"));
  // The host file the script writes: the first node 5 times, the second 4 times.
  const size_t begin = r.output.find("export SLURM_HOSTFILE=");
  const size_t end = r.output.find("done > \"$SLURM_HOSTFILE\"");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  const std::string dir = fresh_dir("gpu-hosts");
  fs::create_directories(dir);
  write_program(dir + "/scontrol", "printf 'n1\\nn2\\n'\n");
  std::ofstream(dir + "/placement.sh")
      << r.output.substr(begin, end - begin) << "done > \"$SLURM_HOSTFILE\"\n";
  fs::create_directories(out + "/logs");
  const testing::ProcessResult placed =
      run_process("SLURM_JOB_ID=7 SLURM_JOB_NODELIST=n[1-2] PATH=" + dir + ":$PATH bash " + dir +
                  "/placement.sh");
  ASSERT_EQ(placed.exit_code, 0) << placed.output;
  EXPECT_EQ(read_file(out + "/logs/hosts-7"), "n1\nn1\nn1\nn1\nn1\nn2\nn2\nn2\nn2\n");
  // Groups must divide the GPU ranks; a rank count cannot be given with GPUs.
  const testing::ProcessResult bad = run_process(
      journey_command("submit --config " + tiny_config() + " --out " + out +
                      " --nodes 2 --gpus-per-node 4 --group-size 3 --time 30 --dry-run"));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_TRUE(contains(bad.output, "the group size must divide 8")) << bad.output;
  const testing::ProcessResult both =
      run_process(journey_command("submit --config " + tiny_config() + " --out " + out +
                                  " --gpus-per-node 4 --ranks-per-node 5 --time 30 --dry-run"));
  EXPECT_EQ(both.exit_code, 2) << both.output;
  EXPECT_TRUE(contains(both.output, "exclude each other")) << both.output;
}

// A ledger in `out` (made here) for tiny_config()'s grid of 2 cells, every one pending.
Ledger tiny_sweep_ledger(const std::string& out) {
  fs::create_directories(out);
  const RunConfig config = parse_config(tiny_config(), {});
  const Dataset dataset = Dataset::open(testing::test_dataset_dir());
  return Ledger::open_or_create(
      out, sweep_identity(config, dataset.tokenizer_hash(), dataset.fingerprint()),
      expand_grid(config));
}

TEST(SubmitCli, AFinishedSweepHasNothingToSubmitUnlessAskedToRefit) {
  const std::string calls = fresh_file("calls-finished.txt");
  const std::string bin = fake_slurm_dir(calls);
  const std::string out = fresh_dir("finished-out");
  Ledger ledger = tiny_sweep_ledger(out);
  for (CellRecord& r : ledger.records()) r.status = CellStatus::kDone;
  ledger.records().back().status = CellStatus::kDiverged;
  ledger.save();
  const std::string flags =
      "--config " + tiny_config() + " --out " + out + " --ranks-per-node 3 --time 30";
  const testing::ProcessResult r = submit(bin, flags);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "nothing to do: all 2 cells")) << r.output;
  EXPECT_TRUE(contains(r.output, "1 done, 1 failed or diverged")) << r.output;
  EXPECT_FALSE(fs::exists(calls)) << "sbatch was called";
  const testing::ProcessResult refit = submit(bin, flags + " --refit");
  EXPECT_EQ(refit.exit_code, 0) << refit.output;
  EXPECT_TRUE(fs::exists(calls));
}

// --retry-failed: the grid's failed cells are marked pending before the job is submitted (a
// dry run only counts them); a diverged cell stays final.
TEST(SubmitCli, RetryFailedMarksFailedCellsPendingAndSubmits) {
  const std::string calls = fresh_file("calls-retry.txt");
  const std::string bin = fake_slurm_dir(calls);
  const std::string out = fresh_dir("retry-out");
  Ledger ledger = tiny_sweep_ledger(out);
  ASSERT_EQ(ledger.records().size(), 2u);
  ledger.records()[0].status = CellStatus::kFailed;
  ledger.records()[0].reason = "disk full";
  ledger.records()[1].status = CellStatus::kDiverged;
  ledger.save();
  const std::string flags =
      "--config " + tiny_config() + " --out " + out + " --ranks-per-node 3 --time 30";
  const testing::ProcessResult plain = submit(bin, flags);
  EXPECT_TRUE(contains(plain.output, "nothing to do")) << plain.output;
  EXPECT_TRUE(contains(plain.output, "--retry-failed submits a job")) << plain.output;
  const testing::ProcessResult dry = submit(bin, flags + " --retry-failed --dry-run");
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_FALSE(contains(dry.output, "nothing to do")) << dry.output;
  EXPECT_EQ(Ledger::load(out).records()[0].status, CellStatus::kFailed);  // Dry: unchanged.
  EXPECT_FALSE(fs::exists(calls));
  const testing::ProcessResult r = submit(bin, flags + " --retry-failed");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "1 failed cell(s) marked pending")) << r.output;
  EXPECT_TRUE(fs::exists(calls));
  const Ledger after = Ledger::load(out);
  EXPECT_EQ(after.records()[0].status, CellStatus::kPending);
  EXPECT_EQ(after.records()[0].reason, "");
  EXPECT_EQ(after.records()[1].status, CellStatus::kDiverged);
}

TEST(SubmitCli, MoreNodesThanThePartitionHasIsRefused) {
  const std::string calls = fresh_file("calls-nodes.txt");
  const std::string bin = fake_slurm_dir(calls);  // sinfo: 12 nodes in debug.
  const std::string out = fresh_dir("nodes-out");
  const testing::ProcessResult r = submit(bin, "--config " + tiny_config() + " --out " + out +
                                                   " --nodes 13 --ranks-per-node 1 --time 30");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "--nodes 13 is more than the 12 node(s)")) << r.output;
  EXPECT_FALSE(fs::exists(calls));
}

// When Slurm cannot say whether the last job still runs (slurmctld busy), nothing is
// submitted: a second job could run the same cells at once.
TEST(SubmitCli, ASlurmThatCannotAnswerGetsNoSecondJob) {
  const std::string calls = fresh_file("calls-unsure.txt");
  const std::string bin = fake_slurm_dir(calls);
  write_program(bin + "/scontrol",
                "echo 'slurm_load_jobs error: Socket timed out on send/recv operation' >&2\n"
                "exit 1\n");
  const std::string out = fresh_dir("unsure-out");
  fs::create_directories(out);
  record_submitted_job(out, "78", "earlier");
  const testing::ProcessResult r =
      submit(bin, "--config " + tiny_config() + " --out " + out + " --ranks-per-node 3 --time 30");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "cannot tell whether job 78, the last one submitted for " + out +
                                     ", still runs (scontrol failed: slurm_load_jobs error"))
      << r.output;
  EXPECT_FALSE(fs::exists(calls)) << "sbatch was called";
}

TEST(SubmitCli, DryRunReportsAJobAlreadyRunningTheDirectory) {
  const std::string bin = fake_slurm_dir(fresh_file("calls-active.txt"));
  write_program(bin + "/scontrol", "echo 'JobId=77 JobName=j JobState=PENDING Reason=Priority'\n");
  const std::string out = fresh_dir("active-out");
  fs::create_directories(out);
  record_submitted_job(out, "77", "earlier");
  const testing::ProcessResult r = submit(bin, "--config " + tiny_config() + " --out " + out +
                                                   " --ranks-per-node 3 --time 30 --dry-run");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "job 77 (PENDING) already runs the sweep in " + out)) << r.output;
}

TEST(SubmitCli, MissingSbatchIsExplained) {
  const testing::ProcessResult r =
      run_process("PATH=/nonexistent " +
                  journey_command("submit --config " + tiny_config() + " --out " +
                                  fresh_dir("no-sbatch") + " --ranks-per-node 3 --time 10"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "sbatch is not on PATH")) << r.output;
}

TEST(StatusCli, CountsCellsAndShowsTheNewestStepOfRunningOnes) {
  const std::string dir = fresh_dir("status");
  fs::create_directories(dir);
  RunConfig config = parse_config(tiny_config(), {});
  const std::vector<Cell> cells = expand_grid(config);
  ASSERT_EQ(cells.size(), 2u);
  Ledger ledger = Ledger::open_or_create(dir, "identity", cells);
  CellRecord& done = ledger.at(cells[0].id);
  done.status = CellStatus::kDone;
  done.run.steps_done = done.run.total_steps = 96;
  done.run.final_eval_loss = 4.3168;
  done.attempts = 1;
  CellRecord& running = ledger.at(cells[1].id);
  running.status = CellStatus::kRunning;
  running.attempts = 2;
  ledger.save();
  // A failure reason with control characters (a tampered ledger) is printed escaped.
  done.status = CellStatus::kFailed;
  done.reason = "bad\x1b[2J\nforged line";
  ledger.save();
  const testing::ProcessResult escaped = run_process(journey_command("status " + dir));
  ASSERT_EQ(escaped.exit_code, 0) << escaped.output;
  EXPECT_TRUE(contains(escaped.output, "bad\\x1b[2J\\nforged line")) << escaped.output;
  EXPECT_FALSE(contains(escaped.output, "\x1b")) << escaped.output;
  done.status = CellStatus::kDone;
  done.reason.clear();
  ledger.save();
  fs::create_directories(dir + "/cells/" + cells[1].id);
  write_run_progress(dir + "/cells/" + cells[1].id,
                     {cells[1].id, 40, 96, 5.1234, 1e-3, 1, 0, 0, 0});

  const testing::ProcessResult r = run_process(journey_command("status " + dir));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "2 cells: 1 done, 1 running, 0 failed, 0 pending")) << r.output;
  EXPECT_TRUE(contains(r.output, "96/96")) << r.output;
  EXPECT_TRUE(contains(r.output, "4.3168")) << r.output;
  EXPECT_TRUE(contains(r.output, "40/96")) << r.output;
  EXPECT_TRUE(contains(r.output, "5.1234")) << r.output;
  EXPECT_FALSE(contains(r.output, "slurm job")) << r.output;  // Not submitted.

  // Once its job has ended, cells still marked running are explained.
  record_submitted_job(dir, "77", "test");
  const std::string bin = fake_slurm_dir(fresh_file("calls-status.txt"));
  const testing::ProcessResult ended =
      run_process("PATH=" + bin + ":$PATH " + journey_command("status " + dir));
  ASSERT_EQ(ended.exit_code, 0) << ended.output;
  EXPECT_TRUE(contains(ended.output, "slurm job 77: no longer known to Slurm")) << ended.output;
  EXPECT_TRUE(contains(ended.output, "the next run resumes them")) << ended.output;

  // When Slurm cannot be asked, status says so and claims nothing about the cells.
  const std::string broken = fresh_dir("broken-bin");
  fs::create_directories(broken);
  write_program(broken + "/scontrol",
                "echo 'scontrol: fatal: Could not establish a configuration source' >&2\nexit 1\n");
  const testing::ProcessResult unknown =
      run_process("PATH=" + broken + ":$PATH " + journey_command("status " + dir));
  ASSERT_EQ(unknown.exit_code, 0) << unknown.output;
  EXPECT_TRUE(contains(unknown.output, "state unknown (scontrol failed: scontrol: fatal"))
      << unknown.output;
  EXPECT_FALSE(contains(unknown.output, "the next run resumes them")) << unknown.output;
}

TEST(StatusCli, NotASweepDirectoryExits1) {
  const std::string dir = fresh_dir("not-a-sweep");
  fs::create_directories(dir);
  const testing::ProcessResult r = run_process(journey_command("status " + dir));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "not a sweep directory")) << r.output;
  EXPECT_EQ(run_process(journey_command("status")).exit_code, 2);
}

}  // namespace
}  // namespace journey
