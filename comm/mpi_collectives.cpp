#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "comm/mpi_collectives.h"

namespace journey {
namespace {

MPI_Datatype mpi_type(ElementType dtype) {
  switch (dtype) {
    case ElementType::kFloat32:
      return MPI_FLOAT;
    case ElementType::kFloat64:
      return MPI_DOUBLE;
    case ElementType::kInt64:
      return MPI_INT64_T;
    case ElementType::kByte:
      return MPI_BYTE;
  }
  return MPI_BYTE;
}

// An MPI count and datatype for `count` elements of `dtype`. Raw bytes travel as the widest
// unsigned integer whose size divides the count (bit copies, like bytes), so that a gather
// of up to 2^30 8-byte words fits MPI's int count rather than 2^30 bytes.
struct MpiCount {
  size_t count;
  MPI_Datatype type;
};
MpiCount mpi_count(size_t count, ElementType dtype) {
  if (dtype == ElementType::kByte) {
    if (count % 8 == 0) return {count / 8, MPI_UINT64_T};
    if (count % 4 == 0) return {count / 4, MPI_UINT32_T};
    if (count % 2 == 0) return {count / 2, MPI_UINT16_T};
  }
  return {count, mpi_type(dtype)};
}

// Adds the wall time of one wait (a blocking call, or the wait of a started one) to `seconds`.
class Timed {
 public:
  explicit Timed(double& seconds) : seconds_(seconds), start_(std::chrono::steady_clock::now()) {}
  ~Timed() {
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  double& seconds_;
  std::chrono::steady_clock::time_point start_;
};

// A started MPI collective: its request, completed by MPI_Wait.
class MpiPending : public PendingCollective {
 public:
  MpiPending(MPI_Request request, Collectives::Stats& stats, const char* what)
      : request_(request), stats_(stats), what_(what) {}
  ~MpiPending() override {
    if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
  }
  void wait() override {
    if (request_ == MPI_REQUEST_NULL) return;
    Timed timed(stats_.seconds);
    check_mpi(MPI_Wait(&request_, MPI_STATUS_IGNORE), what_);
  }

 private:
  MPI_Request request_;
  Collectives::Stats& stats_;
  const char* what_;
};

// MPI counts are int. Gathers and reduce-scatters move one unit's shard (far below 2^30
// elements even at paper scale) and refuse more; reductions loop in chunks.
class MpiCollectives : public Collectives {
 public:
  explicit MpiCollectives(const Communicator& comm) : comm_(comm.handle()) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void all_gather(const void* send, void* recv, size_t count, ElementType dtype) override {
    Timed timed(count_call(count * element_size(dtype) * size_));
    if (count == 0) return;
    const MpiCount n = mpi_count(count, dtype);
    check_int(n.count, "MPI_Allgather");
    check_mpi(MPI_Allgather(send, static_cast<int>(n.count), n.type, recv,
                            static_cast<int>(n.count), n.type, comm_),
              "MPI_Allgather");
  }

  void gather(const void* send, void* recv, size_t count, ElementType dtype, int root) override {
    Timed timed(count_call(count * element_size(dtype) * (rank_ == root ? size_ : 1)));
    if (count == 0) return;
    const MpiCount n = mpi_count(count, dtype);
    check_int(n.count, "MPI_Gather");
    check_mpi(MPI_Gather(send, static_cast<int>(n.count), n.type, recv, static_cast<int>(n.count),
                         n.type, root, comm_),
              "MPI_Gather");
  }

  void reduce_scatter_sum(const void* send, void* recv, size_t count, ElementType dtype) override {
    Timed timed(count_call(count * element_size(dtype) * size_));
    check_reducible(dtype);
    if (count == 0) return;
    check_int(count, "MPI_Reduce_scatter_block");
    check_mpi(MPI_Reduce_scatter_block(send, recv, static_cast<int>(count), mpi_type(dtype),
                                       MPI_SUM, comm_),
              "MPI_Reduce_scatter_block");
  }

  std::unique_ptr<PendingCollective> start_all_gather(const void* send, void* recv, size_t count,
                                                      ElementType dtype) override {
    const MpiCount n = mpi_count(count, dtype);
    check_int(n.count, "MPI_Iallgather");
    MPI_Request request = MPI_REQUEST_NULL;
    if (count > 0) {
      check_mpi(MPI_Iallgather(send, static_cast<int>(n.count), n.type, recv,
                               static_cast<int>(n.count), n.type, comm_, &request),
                "MPI_Iallgather");
    }
    count_call(count * element_size(dtype) * size_);
    return std::make_unique<MpiPending>(request, stats_, "MPI_Iallgather");
  }

  std::unique_ptr<PendingCollective> start_reduce_scatter_sum(const void* send, void* recv,
                                                              size_t count,
                                                              ElementType dtype) override {
    check_reducible(dtype);
    check_int(count, "MPI_Ireduce_scatter_block");
    MPI_Request request = MPI_REQUEST_NULL;
    if (count > 0) {
      check_mpi(MPI_Ireduce_scatter_block(send, recv, static_cast<int>(count), mpi_type(dtype),
                                          MPI_SUM, comm_, &request),
                "MPI_Ireduce_scatter_block");
    }
    count_call(count * element_size(dtype) * size_);
    return std::make_unique<MpiPending>(request, stats_, "MPI_Ireduce_scatter_block");
  }

  void all_reduce_sum(void* data, size_t count, ElementType dtype) override {
    all_reduce(data, count, dtype, MPI_SUM);
  }
  void all_reduce_max(void* data, size_t count, ElementType dtype) override {
    all_reduce(data, count, dtype, MPI_MAX);
  }

  Stats stats() const override { return stats_; }

  // MPI_Abort from the deadline's watchdog thread while the main thread is inside a call:
  // outside what MPI_THREAD_FUNNELED promises, but Open MPI and MPICH implement MPI_Abort as
  // "kill the job" from any thread, and it is the only way out of a blocked collective.
  [[noreturn]] void abort(int exit_code) noexcept override {
    MPI_Abort(comm_, exit_code);
    std::_Exit(exit_code);
  }

 private:
  static constexpr size_t kMaxInt = 1u << 30;

  static void check_int(size_t count, const char* what) {
    if (count >= kMaxInt) throw std::runtime_error(std::string(what) + ": count too large");
  }
  static void check_reducible(ElementType dtype) {
    if (dtype == ElementType::kByte) {
      throw std::invalid_argument("collectives: raw bytes cannot be summed or compared");
    }
  }

  // Counts one call and its bytes; returns where its wait time goes.
  double& count_call(uint64_t bytes) {
    stats_.bytes += bytes;
    stats_.calls += 1;
    return stats_.seconds;
  }

  void all_reduce(void* data, size_t count, ElementType dtype, MPI_Op op) {
    Timed timed(count_call(2 * count * element_size(dtype)));
    check_reducible(dtype);
    char* p = static_cast<char*>(data);
    const size_t step = kMaxInt / element_size(dtype);
    for (size_t done = 0; done < count; done += step) {
      const size_t n = std::min(step, count - done);
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, p + done * element_size(dtype), static_cast<int>(n),
                              mpi_type(dtype), op, comm_),
                "MPI_Allreduce");
    }
  }

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  Stats stats_;
};

}  // namespace

std::unique_ptr<Collectives> make_mpi_collectives(const Communicator& comm) {
  return std::make_unique<MpiCollectives>(comm);
}

}  // namespace journey
