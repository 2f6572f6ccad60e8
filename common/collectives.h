// The collectives a worker group needs, behind a small device-agnostic interface.
//
// Buffers are raw pointers to `count` elements of `dtype`, so a backend may hold host memory
// (comm/mpi_collectives.h) or device memory (an NCCL backend). Nothing above this interface
// may assume MPI. Every call is collective: all ranks of the group call it in the same order
// with the same counts, and it returns when this rank's part is complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace journey {

// kByte moves raw bytes (data of mixed element types, e.g. float32 and bfloat16 parameters
// gathered in one call); it cannot be reduced.
enum class ElementType { kFloat32, kFloat64, kInt64, kByte };

// Bytes per element, for every backend.
constexpr size_t element_size(ElementType dtype) {
  switch (dtype) {
    case ElementType::kByte:
      return 1;
    case ElementType::kFloat32:
      return 4;
    case ElementType::kFloat64:
    case ElementType::kInt64:
      return 8;
  }
  return 0;
}

// A collective that was started and may still be running (Collectives::start_all_gather,
// start_reduce_scatter_sum). wait() returns once this rank's part is complete: the receive
// buffer holds the result, and both buffers may be reused by work that follows the wait (on
// a GPU backend: kernels queued on the compute stream after wait(); the host does not block).
// Destroying a handle that was not waited for waits.
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual void wait() = 0;
};

// A collective already complete when started: what a backend without nonblocking calls returns.
class CompletedCollective : public PendingCollective {
 public:
  void wait() override {}
};

class Collectives {
 public:
  virtual ~Collectives() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Every rank contributes `count` elements; `recv` receives size() * count elements,
  // rank r's contribution at offset r * count.
  virtual void all_gather(const void* send, void* recv, size_t count, ElementType dtype) = 0;
  // Like all_gather, but only `root` receives (recv is ignored on the other ranks).
  virtual void gather(const void* send, void* recv, size_t count, ElementType dtype, int root) = 0;
  // `send` holds size() * count elements; rank r receives in `recv` the element-wise sum
  // over ranks of their block r (elements [r * count, (r + 1) * count)).
  virtual void reduce_scatter_sum(const void* send, void* recv, size_t count,
                                  ElementType dtype) = 0;
  // all_gather and reduce_scatter_sum started without waiting for them, so that communication
  // overlaps computation (FSDP prefetch, worker/sharded_model.h). A started call takes its
  // place in the group's order of collectives when it is started: every rank starts it at the
  // same point relative to its other calls. `send` and `recv` must stay valid, and untouched
  // by anything but the call, until its wait(). A backend without nonblocking collectives
  // runs the blocking call here (the default).
  virtual std::unique_ptr<PendingCollective> start_all_gather(const void* send, void* recv,
                                                              size_t count, ElementType dtype) {
    all_gather(send, recv, count, dtype);
    return std::make_unique<CompletedCollective>();
  }
  virtual std::unique_ptr<PendingCollective> start_reduce_scatter_sum(const void* send, void* recv,
                                                                      size_t count,
                                                                      ElementType dtype) {
    reduce_scatter_sum(send, recv, count, dtype);
    return std::make_unique<CompletedCollective>();
  }
  // Blocks the host until every collective this rank started has completed. Only a backend
  // whose wait() does not block the host needs it (NCCL: its stream): a rank about to read a
  // result on the host calls it first, so that a collective that never ends (a dead peer)
  // hangs here, inside a call the collective deadline watches, rather than in a device
  // synchronisation nobody watches.
  virtual void synchronize() {}
  // In place element-wise sum (or max) over ranks.
  virtual void all_reduce_sum(void* data, size_t count, ElementType dtype) = 0;
  virtual void all_reduce_max(void* data, size_t count, ElementType dtype) = 0;

  // What this rank's collectives have cost so far, for benchmarks and run summaries.
  struct Stats {
    uint64_t bytes = 0;  // Sent plus received.
    double seconds = 0;  // Wall time inside collective calls (waiting included).
    int64_t calls = 0;
  };
  virtual Stats stats() const = 0;

  // Ends this process with `exit_code` and, as far as the backend can, the group's other
  // processes, even while a call of this object is blocked in another thread: the way out of
  // a collective whose peer is gone (common/collective_deadline.h). Never returns. MPI:
  // MPI_Abort, which ends every process of the job; NCCL: ncclCommAbort, then MPI_Abort.
  [[noreturn]] virtual void abort(int exit_code) noexcept = 0;
};

}  // namespace journey
