#include "coordinator/messages.h"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "comm/mpi_session.h"

namespace journey {
namespace {

nlohmann::json parse_body(const std::string& text, int source, int tag) {
  nlohmann::json body = nlohmann::json::parse(text);
  if (body.value("v", 0) != kMessageVersion) {
    throw std::runtime_error("message with tag " + std::to_string(tag) + " from rank " +
                             std::to_string(source) + " has version " +
                             body.value("v", nlohmann::json()).dump() + ", expected " +
                             std::to_string(kMessageVersion));
  }
  return body;
}

// Completes a nonblocking request, sleeping between tests.
void wait_idle(MPI_Request* request) {
  int done = 0;
  while (true) {
    check_mpi(MPI_Test(request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    idle_pause();
  }
}

}  // namespace

void idle_pause() {
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void send_message(MPI_Comm comm, int dest, int tag, nlohmann::json body) {
  body["v"] = kMessageVersion;
  const std::string text = body.dump();
  check_mpi(MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, dest, tag, comm),
            "MPI_Send");
}

std::optional<Message> poll_message(MPI_Comm comm, int source, int tag) {
  int flag = 0;
  MPI_Status status;
  check_mpi(MPI_Iprobe(source, tag, comm, &flag, &status), "MPI_Iprobe");
  if (!flag) return std::nullopt;
  int size = 0;
  MPI_Get_count(&status, MPI_CHAR, &size);
  std::string text(static_cast<size_t>(size), '\0');
  check_mpi(MPI_Recv(text.data(), size, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, comm,
                     MPI_STATUS_IGNORE),
            "MPI_Recv");
  return Message{status.MPI_SOURCE, status.MPI_TAG,
                 parse_body(text, status.MPI_SOURCE, status.MPI_TAG)};
}

Message wait_message(MPI_Comm comm, int source, int tag) {
  while (true) {
    if (auto message = poll_message(comm, source, tag)) return *message;
    idle_pause();
  }
}

nlohmann::json broadcast_json(MPI_Comm comm, int root, const nlohmann::json& body) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string text;
  if (rank == root) {
    nlohmann::json versioned = body;
    versioned["v"] = kMessageVersion;
    text = versioned.dump();
  }
  int64_t size = static_cast<int64_t>(text.size());
  MPI_Request request;
  check_mpi(MPI_Ibcast(&size, 1, MPI_INT64_T, root, comm, &request), "MPI_Ibcast");
  wait_idle(&request);
  text.resize(static_cast<size_t>(size));
  check_mpi(MPI_Ibcast(text.data(), static_cast<int>(size), MPI_CHAR, root, comm, &request),
            "MPI_Ibcast");
  wait_idle(&request);
  return parse_body(text, root, -1);
}

}  // namespace journey
