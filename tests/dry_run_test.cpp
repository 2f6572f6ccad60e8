// The estimate that ends `journey sweep --dry-run` (sweep/dry_run.h), torch-free: the
// compute in FLOP always; the wall time from a throughput, scheduled longest first over the
// groups; GPU-hours for a GPU sweep; and, without a GPU throughput, how to give one.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sweep/dry_run.h"

namespace journey {
namespace {

// Four cells of 400, 200, 200 and 100 s at 1e10 FLOP/s a group (2 ranks x 1e10 x 50%):
// longest first onto the group that frees first gives groups of 400 + 100 and 200 + 200.
const std::vector<double> kExecuted = {4e12, 2e12, 2e12, 1e12};

TEST(DryRun, EstimatesWallTimeFromTheThroughput) {
  DryRunThroughput t;
  t.peak_flops = 1e10;
  t.efficiency = 0.5;
  t.source = "measured";
  const std::vector<std::string> lines = dry_run_estimate(kExecuted, 6e12, 2, 2, t);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            "4 cells on 2 group(s) of 2 rank(s): 9e+12 FLOP executed in all (the paper's C = 6 "
            "N-bar D: 6e+12 FLOP)");
  EXPECT_EQ(lines[1],
            "estimated wall time 8 min 20 s (500 s; 900 s of group time), at 1e+10 FLOP/s peak "
            "per rank (measured) x 50% MFU");
}

TEST(DryRun, GpuSweepsGetGpuHours) {
  DryRunThroughput t;
  t.gpu = true;
  t.peak_flops = 1e10;
  t.efficiency = 0.5;
  t.source = "--peak-flops";
  const std::vector<std::string> lines = dry_run_estimate(kExecuted, 6e12, 2, 2, t);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("2 group(s) of 2 rank(s), one GPU each"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("(--peak-flops) x 50% MFU"), std::string::npos) << lines[1];
  // 900 s of group time on 2 GPUs each: 0.5 GPU-hours; 4 GPUs held for 500 s: 0.556.
  EXPECT_EQ(lines[2],
            "estimated GPU-hours 0.5 (2 GPU(s) per group x 0.25 h of group time; the "
            "allocation holds 4 GPU(s) for 0.139 h: 0.556 GPU-hours)");
}

TEST(DryRun, WithoutAGpuThroughputSaysHowToGiveOne) {
  DryRunThroughput t;
  t.gpu = true;
  const std::vector<std::string> lines = dry_run_estimate(kExecuted, 6e12, 2, 2, t);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("9e+12 FLOP executed in all"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].rfind("no time estimate: train.device is cuda and no GPU throughput was "
                           "given; pass --peak-flops F",
                           0),
            0u)
      << lines[1];
  EXPECT_NE(lines[1].find("--mfu M"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[1].find("GPU-hours "), std::string::npos);  // "GPU-hours" only as advice.
}

TEST(DryRun, HumanDurations) {
  EXPECT_EQ(human_duration(40.4), "40 s");
  EXPECT_EQ(human_duration(725), "12 min 5 s");
  EXPECT_EQ(human_duration(3 * 3600 + 20 * 60 + 10), "3 h 20 min");
  EXPECT_EQ(human_duration(2 * 86400 + 3 * 3600 + 59), "2 d 3 h");
}

}  // namespace
}  // namespace journey
