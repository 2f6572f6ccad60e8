// The collectives a worker group needs, behind a small device-agnostic interface.
//
// Buffers are raw pointers to `count` elements of `dtype`, so a backend may hold host memory
// (comm/mpi_collectives.h) or device memory (an NCCL backend). Nothing above this interface
// may assume MPI. Every call is collective: all ranks of the group call it in the same order
// with the same counts, and it returns when this rank's part is complete.
#pragma once

#include <cstddef>
#include <cstdint>

namespace journey {

enum class ElementType { kFloat32, kFloat64, kInt64 };

// Bytes per element, for every backend.
constexpr size_t element_size(ElementType dtype) {
  switch (dtype) {
    case ElementType::kFloat32:
      return 4;
    case ElementType::kFloat64:
    case ElementType::kInt64:
      return 8;
  }
  return 0;
}

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
