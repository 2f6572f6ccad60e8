#include "common/collective_deadline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "common/exit_codes.h"
#include "common/log.h"
#include "common/stop_signal.h"

namespace journey {
namespace {

std::atomic<int> checkpoint_writes{0};  // CheckpointWrite objects alive in this process.

using Clock = std::chrono::steady_clock;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

std::string size_text(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f s", seconds);
  return text;
}

class DeadlineCollectives : public Collectives {
 public:
  DeadlineCollectives(std::unique_ptr<Collectives> backend, double timeout_seconds)
      : backend_(std::move(backend)),
        timeout_seconds_(timeout_seconds),
        watchdog_([this] { watch(); }) {}

  ~DeadlineCollectives() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closing_ = true;
    }
    wake_.notify_all();
    watchdog_.join();
  }

  int rank() const override { return backend_->rank(); }
  int size() const override { return backend_->size(); }

  void all_gather(const void* send, void* recv, size_t count, ElementType dtype) override {
    InFlight call(*this, "all_gather", count * element_size(dtype) * size());
    backend_->all_gather(send, recv, count, dtype);
  }
  void gather(const void* send, void* recv, size_t count, ElementType dtype, int root) override {
    InFlight call(*this, "gather", count * element_size(dtype) * size());
    backend_->gather(send, recv, count, dtype, root);
  }
  void reduce_scatter_sum(const void* send, void* recv, size_t count, ElementType dtype) override {
    InFlight call(*this, "reduce_scatter_sum", count * element_size(dtype) * size());
    backend_->reduce_scatter_sum(send, recv, count, dtype);
  }
  std::unique_ptr<PendingCollective> start_all_gather(const void* send, void* recv, size_t count,
                                                      ElementType dtype) override {
    const uint64_t bytes = count * element_size(dtype) * size();
    InFlight call(*this, "all_gather (start)", bytes);
    return std::make_unique<Watched>(*this, "all_gather", bytes,
                                     backend_->start_all_gather(send, recv, count, dtype));
  }
  std::unique_ptr<PendingCollective> start_reduce_scatter_sum(const void* send, void* recv,
                                                              size_t count,
                                                              ElementType dtype) override {
    const uint64_t bytes = count * element_size(dtype) * size();
    InFlight call(*this, "reduce_scatter_sum (start)", bytes);
    return std::make_unique<Watched>(*this, "reduce_scatter_sum", bytes,
                                     backend_->start_reduce_scatter_sum(send, recv, count, dtype));
  }
  void synchronize() override {
    InFlight call(*this, "synchronize", 0);
    backend_->synchronize();
  }
  void all_reduce_sum(void* data, size_t count, ElementType dtype) override {
    InFlight call(*this, "all_reduce_sum", count * element_size(dtype));
    backend_->all_reduce_sum(data, count, dtype);
  }
  void all_reduce_max(void* data, size_t count, ElementType dtype) override {
    InFlight call(*this, "all_reduce_max", count * element_size(dtype));
    backend_->all_reduce_max(data, count, dtype);
  }

  Stats stats() const override { return backend_->stats(); }
  [[noreturn]] void abort(int exit_code) noexcept override {
    backend_->abort(exit_code);
    std::_Exit(exit_code);  // Not reached; the compiler cannot see through the virtual call.
  }

 private:
  // Marks one call as in flight for the watchdog while it lives.
  class InFlight {
   public:
    InFlight(DeadlineCollectives& owner, const char* name, uint64_t bytes) : owner_(owner) {
      owner_.call_name_.store(name);
      owner_.call_bytes_.store(bytes);
      owner_.call_started_ns_.store(now_ns());
    }
    ~InFlight() { owner_.call_started_ns_.store(0); }

   private:
    DeadlineCollectives& owner_;
  };

  // A started call whose wait the watchdog watches like a blocking call.
  class Watched : public PendingCollective {
   public:
    Watched(DeadlineCollectives& owner, const char* name, uint64_t bytes,
            std::unique_ptr<PendingCollective> inner)
        : owner_(owner), name_(name), bytes_(bytes), inner_(std::move(inner)) {}
    ~Watched() override {
      InFlight call(owner_, name_, bytes_);
      inner_.reset();  // Waits, if wait() was not called.
    }
    void wait() override {
      InFlight call(owner_, name_, bytes_);
      inner_->wait();
    }

   private:
    DeadlineCollectives& owner_;
    const char* name_;
    uint64_t bytes_;
    std::unique_ptr<PendingCollective> inner_;
  };

  void watch() {
    int64_t stop_seen_ns = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return closing_; })) {
      const int64_t started = call_started_ns_.load();
      if (stop_seen_ns == 0 && stop_requested()) stop_seen_ns = now_ns();
      if (started == 0) continue;
      const double waited = static_cast<double>(now_ns() - started) * 1e-9;
      if (stop_seen_ns != 0 && checkpoint_writes.load() == 0) {
        double grace = kStopGraceSeconds;
        if (timeout_seconds_ > 0) grace = std::min(grace, timeout_seconds_);
        const double since_stop =
            static_cast<double>(now_ns() - std::max(started, stop_seen_ns)) * 1e-9;
        if (since_stop >= grace) {
          log::warn("a stop was requested (SIGTERM or SIGUSR2) while " + call_text(waited) +
                    "; ending the group without a checkpoint: the step in progress is lost, "
                    "and running the same command again resumes from the last checkpoint");
          abort(exit_code::kPreempted);
        }
        continue;  // After a stop only the grace applies; it is never longer than the timeout.
      }
      // Before a stop, or while a checkpoint is written after one: the timeout.
      if (timeout_seconds_ > 0 && waited >= timeout_seconds_) {
        log::error(call_text(waited) +
                   ", longer than train.collective_timeout_s = " + seconds_text(timeout_seconds_) +
                   ": another rank of the group has stopped, died or taken another path; ending "
                   "the group (running the same command again resumes from the last checkpoint)");
        abort(exit_code::kFailure);
      }
    }
  }

  std::string call_text(double waited) const {
    return "collective " + std::string(call_name_.load()) + " (" + size_text(call_bytes_.load()) +
           ") on group rank " + std::to_string(rank()) + " of " + std::to_string(size()) +
           " has waited " + seconds_text(waited);
  }

  std::unique_ptr<Collectives> backend_;
  const double timeout_seconds_;
  std::atomic<const char*> call_name_{""};
  std::atomic<uint64_t> call_bytes_{0};
  std::atomic<int64_t> call_started_ns_{0};  // 0: no call in flight.
  std::mutex mutex_;
  std::condition_variable wake_;
  bool closing_ = false;
  std::thread watchdog_;  // Last: started once everything it reads exists.
};

}  // namespace

CheckpointWrite::CheckpointWrite() {
  ++checkpoint_writes;
}

CheckpointWrite::~CheckpointWrite() {
  --checkpoint_writes;
}

std::unique_ptr<Collectives> with_deadline(std::unique_ptr<Collectives> backend,
                                           double timeout_seconds) {
  return std::make_unique<DeadlineCollectives>(std::move(backend), timeout_seconds);
}

}  // namespace journey
