// Messages between the coordinator (rank 0 of MPI_COMM_WORLD) and the worker-group leaders.
//
// Small JSON objects carrying {"v": 1, ...}, sent with MPI point-to-point on the world
// communicator; only group leaders talk to the coordinator, and a leader relays assignments
// to its group. Waiting is done by probing and sleeping a few milliseconds, not by a
// blocking receive: Open MPI's blocking calls spin a core, and an idle coordinator must not
// take a core from the workers.
//
//   coordinator -> leader   Assign {cell_id, config (INI), out_dir, resume}
//                           Stop {}        checkpoint and report "preempted" at a step boundary
//                           Shutdown {}    no more work: exit
//   leader -> coordinator   Progress {cell_id, step, total_steps, loss, density, tokens_per_s}
//                           Done {cell_id, status, reason, results...}
//                           Alive {}       between phases without steps (loading the model,
//                                          an evaluation, a checkpoint)
#pragma once

#include <mpi.h>

#include <nlohmann/json.hpp>
#include <optional>

namespace journey {

enum MessageTag : int {
  kTagAssign = 101,
  kTagStop = 102,
  kTagShutdown = 103,
  kTagProgress = 201,
  kTagDone = 202,
  kTagAlive = 203,  // Empty: a group leader between phases that send no progress.
};

constexpr int kMessageVersion = 1;

struct Message {
  int source = -1;
  int tag = -1;
  nlohmann::json body;
};

// Sends `body` (with the version added) to `dest`.
void send_message(MPI_Comm comm, int dest, int tag, nlohmann::json body);
// Receives a pending message from `source` (or any) with `tag` (or any), if there is one.
std::optional<Message> poll_message(MPI_Comm comm, int source = MPI_ANY_SOURCE,
                                    int tag = MPI_ANY_TAG);
// Waits for such a message, sleeping between probes.
Message wait_message(MPI_Comm comm, int source = MPI_ANY_SOURCE, int tag = MPI_ANY_TAG);

// Broadcasts a JSON object from `root` over `comm`; non-roots wait sleeping between tests.
nlohmann::json broadcast_json(MPI_Comm comm, int root, const nlohmann::json& body);

// The polling interval used by the waits above.
void idle_pause();

}  // namespace journey
