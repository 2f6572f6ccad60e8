// The `journey` binary's interface: help, unknown commands and flags, exit codes, and the
// schedule command's output.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include <fstream>
#include <future>
#include <regex>
#include <string>
#include <vector>

#include "tests/bad_config_values.h"
#include "tests/subprocess.h"

namespace journey {
namespace {

using testing::journey_command;
using testing::run_process;

TEST(Cli, HelpListsCommands) {
  auto r = run_process(journey_command("--help"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("schedule"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("config"), std::string::npos) << r.output;
}

TEST(Cli, NoCommandIsAUsageError) {
  EXPECT_EQ(run_process(journey_command("")).exit_code, 2);
}

TEST(Cli, UnknownCommandExits2) {
  auto r = run_process(journey_command("frobnicate"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown command 'frobnicate'"), std::string::npos) << r.output;
}

TEST(Cli, MistypedCommandsAndFlagsSuggestTheNearest) {
  auto r = run_process(journey_command("schedul --config x"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown command 'schedul' (did you mean 'schedule'?)"),
            std::string::npos)
      << r.output;
  r = run_process(journey_command("schedule --stpes 4"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("'--stpes' (did you mean '--steps'?)"), std::string::npos) << r.output;
  r = run_process(journey_command("plan --flosp 1e18"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("(did you mean '--flops'?)"), std::string::npos) << r.output;
}

// Both programs name the release and the commit they were built from, so a result can be
// traced to its code.
TEST(Cli, VersionNamesTheReleaseAndTheCommit) {
  const std::regex line(
      R"(journey(-torch)? \d+\.\d+\.\d+ \(git ([0-9a-f]{12}(-dirty)?|unknown)\)\n)");
  auto r = run_process(journey_command("--version"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_match(r.output, line)) << r.output;
  const std::string torch_binary = std::string(JOURNEY_BINARY) + "-torch";
  auto t = run_process(torch_binary + " --version");
  EXPECT_EQ(t.exit_code, 0);
  EXPECT_TRUE(std::regex_match(t.output, line)) << t.output;
  EXPECT_EQ(t.output.substr(t.output.find(' ')), r.output.substr(r.output.find(' ')));
}

TEST(Cli, CommandHelpExplainsIt) {
  auto r = run_process(journey_command("schedule --help"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("usage: journey schedule"), std::string::npos) << r.output;
}

TEST(Cli, UnknownOptionExits2) {
  auto r = run_process(journey_command("config --frobnicate"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--frobnicate"), std::string::npos) << r.output;
  r = run_process(journey_command("config --model.width=3"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("model.width"), std::string::npos) << r.output;
}

// Boost.Program_options 1.74 loops forever formatting an error whose text holds one of its
// placeholders (found by tests/fuzz for config files; here the same for command flags).
TEST(Cli, FlagsHoldingBoostPlaceholdersAreErrorsNotHangs) {
  for (const std::string args :
       {"inspect --x%original_token%y", "plan --flops %value%", "status --%option%"}) {
    const auto r = run_process("timeout 20 " + journey_command(args));
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
  }
}

TEST(Cli, StrayArgumentsExit2) {
  auto r = run_process(journey_command("plan stray words --flops 1e15"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("too many positional options"), std::string::npos) << r.output;
}

TEST(Cli, MissingConfigFileExits2) {
  auto r = run_process(journey_command("schedule --config /nonexistent.ini"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("/nonexistent.ini"), std::string::npos) << r.output;
}

// A device that never ends, or a file far too large, is refused before it is read (it once
// hung reading /dev/zero and ate memory).
TEST(Cli, ConfigsThatAreNotSmallRegularFilesExit2) {
  auto r = run_process("timeout 20 " + journey_command("schedule --config /dev/zero"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/dev/zero: not a regular file"), std::string::npos) << r.output;
  const std::string big = ::testing::TempDir() + "journey-big-" + std::to_string(getpid()) + ".ini";
  {
    std::ofstream out(big);
    out << "[train]\n";
    for (int i = 0; i < 100000; ++i) out << "# a comment line that pads the file\n";
  }
  r = run_process("timeout 20 " + journey_command("schedule --config " + big));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("a config is at most 1048576 bytes"), std::string::npos) << r.output;
  std::remove(big.c_str());
}

// Every validation rule, through the binary: exit code 2 and the key in the message.
TEST(Cli, EveryBadConfigValueExits2NamingTheKey) {
  std::vector<std::future<testing::ProcessResult>> runs;
  for (const auto& bad : testing::kBadValues) {
    runs.push_back(std::async(std::launch::async, [&bad] {
      return run_process(journey_command(std::string("config '") + bad.override_flag + "'"));
    }));
  }
  size_t i = 0;
  for (const auto& bad : testing::kBadValues) {
    testing::ProcessResult r = runs[i++].get();
    EXPECT_EQ(r.exit_code, 2) << bad.override_flag << ": " << r.output;
    EXPECT_NE(r.output.find(bad.key), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(bad.rule_words), std::string::npos) << r.output;
  }
}

TEST(Cli, ConfigPrintsTheEffectiveConfig) {
  auto r = run_process(journey_command("config --prune.sparsity=0.8"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[prune]"), std::string::npos);
  EXPECT_NE(r.output.find("sparsity = 0.8"), std::string::npos) << r.output;
}

TEST(Cli, SchedulePrintsBoundariesAndWritesCsv) {
  const std::string csv = ::testing::TempDir() + "journey-schedule.csv";
  auto r = run_process(journey_command("schedule --config " JOURNEY_SOURCE_DIR
                                       "/configs/demo.ini --prune.sparsity=0.8 "
                                       "--steps 1000 --prune.interval=10 --csv " +
                                       csv));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("t_s 100 (0.1000 T)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("t_e 500 (0.5000 T)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("K 41"), std::string::npos) << r.output;
  std::ifstream in(csv);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header, "step,keep,active");
  int rows = 0;
  while (std::getline(in, line)) ++rows;
  EXPECT_EQ(rows, 1000);
}

TEST(Cli, ScheduleRejectsZeroSteps) {
  auto r = run_process(
      journey_command("schedule --config " JOURNEY_SOURCE_DIR "/configs/demo.ini --steps 0"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--steps"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace journey
