// The deadline on collective calls (common/collective_deadline.h), against stand-in backends:
// one whose calls never return (a peer that never arrives) and one whose calls return.
// Ending the process is what a deadline does, so those cases are death tests; the system
// test with real ranks and a frozen peer is Resume.AFrozenRankEndsTheGroup* (resume_test.cpp).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "common/collective_deadline.h"
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

TEST(CollectiveDeadline, CallsThatReturnPassThroughHoweverLongTheirSum) {
  // Twenty calls of 50 ms: one second in all, each well inside the 0.3 s deadline.
  auto group = with_deadline(std::make_unique<SlowCollectives>(0.05), 0.3);
  double x = 1;
  for (int i = 0; i < 20; ++i) group->all_reduce_sum(&x, 1, ElementType::kFloat64);
  EXPECT_EQ(x, 1 << 20);
  EXPECT_EQ(group->rank(), 0);
  EXPECT_EQ(group->size(), 2);
}

}  // namespace
}  // namespace journey
