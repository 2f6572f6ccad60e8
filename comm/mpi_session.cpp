#include "comm/mpi_session.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <utility>

namespace journey {

void check_mpi(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(std::string(what) + " failed: " + std::string(text, length));
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return;
  int provided = 0;
  check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

Communicator::Communicator(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {
  if (comm_ == MPI_COMM_NULL) {  // A rank that split() left out (color MPI_UNDEFINED).
    rank_ = -1;
    size_ = 0;
    return;
  }
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

Communicator Communicator::world() {
  return Communicator(MPI_COMM_WORLD, false);
}

Communicator::Communicator(Communicator&& other) noexcept
    : comm_(std::exchange(other.comm_, MPI_COMM_NULL)),
      owned_(std::exchange(other.owned_, false)),
      rank_(other.rank_),
      size_(other.size_) {}

Communicator& Communicator::operator=(Communicator&& other) noexcept {
  if (this != &other) {
    if (owned_ && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
    comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
    owned_ = std::exchange(other.owned_, false);
    rank_ = other.rank_;
    size_ = other.size_;
  }
  return *this;
}

Communicator::~Communicator() {
  if (owned_ && comm_ != MPI_COMM_NULL) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }
}

Communicator Communicator::split(std::optional<int> color, int key) const {
  MPI_Comm out = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split(comm_, color.value_or(MPI_UNDEFINED), key, &out), "MPI_Comm_split");
  if (out != MPI_COMM_NULL) MPI_Comm_set_errhandler(out, MPI_ERRORS_RETURN);
  return Communicator(out, true);
}

void Communicator::abort(int exit_code) const noexcept {
  MPI_Abort(comm_, exit_code);
  std::abort();  // MPI_Abort does not return; this tells the compiler so.
}

int Communicator::ranks_on_node() const {
  return node_layout().second;
}

int Communicator::rank_on_node() const {
  return node_layout().first;
}

std::pair<int, int> Communicator::node_layout() const {
  MPI_Comm node = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  int rank = 0, n = 1;
  MPI_Comm_rank(node, &rank);
  MPI_Comm_size(node, &n);
  MPI_Comm_free(&node);
  return {rank, n};
}

NodeMembers node_members(const Communicator& world, bool member) {
  MPI_Comm node = MPI_COMM_NULL;
  check_mpi(
      MPI_Comm_split_type(world.handle(), MPI_COMM_TYPE_SHARED, world.rank(), MPI_INFO_NULL, &node),
      "MPI_Comm_split_type");
  int is_member = member ? 1 : 0, members = 0, before = 0, node_rank = 0;
  MPI_Comm_rank(node, &node_rank);
  MPI_Allreduce(&is_member, &members, 1, MPI_INT, MPI_SUM, node);
  MPI_Exscan(&is_member, &before, 1, MPI_INT, MPI_SUM, node);  // Undefined on node rank 0.
  MPI_Comm_free(&node);
  return {std::max(1, members), node_rank == 0 || !member ? 0 : before};
}

}  // namespace journey
