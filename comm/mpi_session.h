// RAII MPI start-up and shut-down, and the communicator handle the rest of Journey passes
// around.
//
// MpiSession initialises MPI once per process (MPI_THREAD_FUNNELED: only the main thread
// calls MPI, while intra-op threads run LibTorch kernels) and finalises it on destruction.
// Communicator owns a communicator made by split() and frees it; the world communicator is
// borrowed, never freed.
#pragma once

#include <mpi.h>

#include <optional>
#include <string>
#include <utility>

namespace journey {

class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

class Communicator {
 public:
  // Borrows `comm` (for MPI_COMM_WORLD).
  static Communicator world();
  Communicator(Communicator&& other) noexcept;
  Communicator& operator=(Communicator&& other) noexcept;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  ~Communicator();

  int rank() const { return rank_; }
  int size() const { return size_; }
  MPI_Comm handle() const { return comm_; }

  // How many ranks of this communicator share this node (MPI_COMM_TYPE_SHARED), and this
  // rank's index among them (collective, both).
  int ranks_on_node() const;
  int rank_on_node() const;
  // MPI_Comm_split: ranks with the same color form a communicator, ordered by key. A rank
  // with no color (std::nullopt, MPI_UNDEFINED) gets an empty communicator (size 0).
  Communicator split(std::optional<int> color, int key) const;

  // MPI_Abort: ends this process with `exit_code` and every other process of the job (the
  // way out when ranks wait for messages this rank will never send). Never returns.
  [[noreturn]] void abort(int exit_code) const noexcept;

 private:
  Communicator(MPI_Comm comm, bool owned);
  std::pair<int, int> node_layout() const;  // (rank on node, ranks on node)
  MPI_Comm comm_ = MPI_COMM_NULL;
  bool owned_ = false;
  int rank_ = 0, size_ = 1;
};

// The ranks of `world` on this rank's node that are `members` (in `journey sweep`, the worker
// ranks: every rank but the coordinator), and this rank's index among them, which picks its
// GPU. `count` is at least 1 and `index` is 0 on a rank that is no member. Collective over
// `world`.
struct NodeMembers {
  int count = 1, index = 0;
};
NodeMembers node_members(const Communicator& world, bool member);

// Throws std::runtime_error with MPI's text for a failed call (MPI_ERRORS_RETURN is set on
// every communicator Journey uses).
void check_mpi(int code, const char* what);

}  // namespace journey
