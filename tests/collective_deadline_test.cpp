// The deadline on collective calls (common/collective_deadline.h), against stand-in backends:
// one whose calls never return (a peer that never arrives) and one whose calls return.
// Ending the process is what a deadline does, so those cases are death tests; the system
// test with real ranks and a frozen peer is Resume.AFrozenRankEndsTheGroup* (resume_test.cpp).
// Also the rank-0 start-up check (common/leader_check.h), against a stand-in pair of ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "common/collective_deadline.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "common/leader_check.h"
#include "common/stop_signal.h"

namespace journey {
namespace {

// Rank 0 of 2; every call waits `call_seconds`, abort() exits with the code.
class SlowCollectives : public Collectives {
 public:
  explicit SlowCollectives(double call_seconds) : call_seconds_(call_seconds) {}
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void all_gather(const void*, void*, size_t, ElementType) override { wait(); }
  void gather(const void*, void*, size_t, ElementType, int) override { wait(); }
  void reduce_scatter_sum(const void*, void*, size_t, ElementType) override { wait(); }
  void all_reduce_sum(void* data, size_t, ElementType) override {
    wait();
    *static_cast<double*>(data) *= 2;  // What a sum over two equal ranks gives.
  }
  void all_reduce_max(void*, size_t, ElementType) override { wait(); }
  void synchronize() override { wait(); }
  Stats stats() const override { return {}; }
  [[noreturn]] void abort(int exit_code) noexcept override { std::_Exit(exit_code); }

 private:
  void wait() const { std::this_thread::sleep_for(std::chrono::duration<double>(call_seconds_)); }
  double call_seconds_;
};

constexpr double kForever = 3600;

TEST(CollectiveDeadlineDeathTest, AStuckCallEndsTheProcessNamingTheCallAndTheKey) {
  EXPECT_EXIT(
      {
        auto group = with_deadline(std::make_unique<SlowCollectives>(kForever), 0.3);
        double x = 1;
        group->all_reduce_sum(&x, 1, ElementType::kFloat64);
      },
      ::testing::ExitedWithCode(1),
      "collective all_reduce_sum \\(0.0 MiB\\) on group rank 0 of 2 has waited .*"
      "train.collective_timeout_s");
}

TEST(CollectiveDeadlineDeathTest, AStopRequestEndsABlockedCallAsPreempted) {
  EXPECT_EXIT(
      {
        install_stop_signal_handlers();
        std::raise(SIGTERM);
        // Without the stop, this timeout would not end the call for an hour.
        auto group = with_deadline(std::make_unique<SlowCollectives>(kForever), kForever);
        std::vector<float> shard(1 << 18);
        group->all_gather(shard.data(), shard.data(), shard.size(), ElementType::kFloat32);
      },
      ::testing::ExitedWithCode(75), "stop was requested .* collective all_gather \\(2.0 MiB\\)");
}

// While a checkpoint is written the others wait for the leader's write, which is what a stop
// asks for: the stop's grace does not cut that wait short, only the timeout ends it (exit 1
// with the timeout's message, where the grace would have ended it as preempted, 75).
TEST(CollectiveDeadlineDeathTest, AStopDoesNotCutAWaitForACheckpointWrite) {
  EXPECT_EXIT(
      {
        install_stop_signal_handlers();
        std::raise(SIGTERM);
        auto group = with_deadline(std::make_unique<SlowCollectives>(kForever), 0.5);
        const CheckpointWrite writing;
        double x = 1;
        group->all_reduce_sum(&x, 1, ElementType::kFloat64);
      },
      ::testing::ExitedWithCode(1), "collective all_reduce_sum .* train.collective_timeout_s");
}

// A started collective's wait, and the synchronisation before the host reads a result, are
// watched like a blocking call: a peer that never answers ends the process either way.
TEST(CollectiveDeadlineDeathTest, AStuckWaitOrSynchronizeEndsTheProcess) {
  EXPECT_EXIT(
      {
        auto group = with_deadline(std::make_unique<SlowCollectives>(kForever), 0.3);
        group->synchronize();
      },
      ::testing::ExitedWithCode(1), "collective synchronize .* has waited");
  EXPECT_EXIT(
      {
        auto group = with_deadline(std::make_unique<SlowCollectives>(kForever), 0.3);
        float x = 1;
        // The default start runs the (stuck) blocking call.
        group->start_all_gather(&x, &x, 1, ElementType::kFloat32)->wait();
      },
      ::testing::ExitedWithCode(1), "collective all_gather \\(start\\) .* has waited");
}

TEST(CollectiveDeadline, CallsThatReturnPassThroughHoweverLongTheirSum) {
  // Twenty calls of 50 ms: one second in all, each well inside the 0.3 s deadline.
  auto group = with_deadline(std::make_unique<SlowCollectives>(0.05), 0.3);
  double x = 1;
  for (int i = 0; i < 20; ++i) group->all_reduce_sum(&x, 1, ElementType::kFloat64);
  EXPECT_EQ(x, 1 << 20);
  EXPECT_EQ(group->rank(), 0);
  EXPECT_EQ(group->size(), 2);
}

// One rank of two whose all_reduce_max sees `peer` as the other rank's value.
class PairRank : public Collectives {
 public:
  PairRank(int rank, int64_t peer) : rank_(rank), peer_(peer) {}
  int rank() const override { return rank_; }
  int size() const override { return 2; }
  void all_gather(const void*, void*, size_t, ElementType) override {}
  void gather(const void*, void*, size_t, ElementType, int) override {}
  void reduce_scatter_sum(const void*, void*, size_t, ElementType) override {}
  void all_reduce_sum(void*, size_t, ElementType) override {}
  void all_reduce_max(void* data, size_t, ElementType) override {
    int64_t* value = static_cast<int64_t*>(data);
    *value = std::max(*value, peer_);
  }
  Stats stats() const override { return {}; }
  [[noreturn]] void abort(int exit_code) noexcept override { std::_Exit(exit_code); }

 private:
  int rank_;
  int64_t peer_;
};

TEST(LeaderCheck, OnlyRankZeroChecksAndEveryRankLearnsItsExitCode) {
  int checks = 0;
  PairRank leader(0, exit_code::kOk);
  EXPECT_EQ(agree_on_leader_check(leader, [&] { ++checks; }), exit_code::kOk);
  EXPECT_EQ(checks, 1);
  PairRank other(1, exit_code::kOk);
  EXPECT_EQ(agree_on_leader_check(other, [&] { ++checks; }), exit_code::kOk);
  EXPECT_EQ(checks, 1);  // Rank 1 never runs the check.

  // Rank 0 rethrows its own error; the other rank gets the code that error gives.
  PairRank refusing_leader(0, exit_code::kOk);
  EXPECT_THROW(agree_on_leader_check(refusing_leader, [] { throw UsageError("in use"); }),
               UsageError);
  PairRank told_usage(1, exit_code::kUsage);
  EXPECT_EQ(agree_on_leader_check(told_usage, [] {}), exit_code::kUsage);
  PairRank failing_leader(0, exit_code::kOk);
  EXPECT_THROW(agree_on_leader_check(failing_leader, [] { throw DataError("no dataset"); }),
               DataError);
  PairRank told_failure(1, exit_code::kFailure);
  EXPECT_EQ(agree_on_leader_check(told_failure, [] {}), exit_code::kFailure);
}

}  // namespace
}  // namespace journey
