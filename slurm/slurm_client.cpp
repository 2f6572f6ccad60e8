#include "slurm/slurm_client.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

extern char** environ;

namespace journey {
namespace {

// Closes both ends of a pipe on every path out.
struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (pipe2(fd, O_CLOEXEC) != 0) fd[0] = fd[1] = -1;
  }
  ~Pipe() {
    for (int f : fd) {
      if (f >= 0) close(f);
    }
  }
  bool ok() const { return fd[0] >= 0; }
  void close_write() {
    close(fd[1]);
    fd[1] = -1;
  }
};

// Reads both pipes until both reach end of file.
void drain(Pipe& out, Pipe& err, ProgramOutput& result) {
  pollfd fds[2] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  char buf[4096];
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
}

std::string trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

ProgramOutput run_program(const std::vector<std::string>& argv) {
  ProgramOutput result;
  Pipe out, err;
  if (argv.empty() || !out.ok() || !err.ok()) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = posix_spawnp(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  out.close_write();
  err.close_write();
  if (spawned != 0) {
    result.exit_code = 127;
    result.err = "cannot run " + argv[0];
    return result;
  }
  drain(out, err, result);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string parse_sbatch_job_id(const std::string& output) {
  // --parsable prints "jobid" or "jobid;cluster" on the last line.
  std::istringstream lines(output);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!trim(line).empty()) last = trim(line);
  }
  const std::string id = last.substr(0, last.find(';'));
  if (id.empty()) return "";
  for (char c : id) {
    // Array and heterogeneous job ids ("12_3", "12+0") never come from a plain sbatch.
    if (c < '0' || c > '9') return "";
  }
  return id;
}

std::optional<SlurmJob> parse_scontrol_job(const std::string& line) {
  // "Key=value Key=value ..."; a value may contain spaces (Command=, Reason=), so a word
  // without "=" belongs to the previous value.
  std::istringstream words(line);
  std::string word, key;
  SlurmJob job;
  bool has_id = false, has_state = false;
  auto assign = [&](const std::string& k, const std::string& v) {
    if (k == "JobId") {
      job.id = v;
      has_id = true;
    } else if (k == "JobState") {
      job.state = v;
      has_state = true;
    } else if (k == "Reason") {
      job.reason = v;
    } else if (k == "Restarts") {
      job.restarts = std::atoi(v.c_str());
    } else if (k == "RunTime") {
      job.run_time = v;
    } else if (k == "TimeLimit") {
      job.time_limit = v;
    } else if (k == "Requeue") {
      job.requeue = std::atoi(v.c_str());
    }
  };
  while (words >> word) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    key = word.substr(0, eq);
    assign(key, word.substr(eq + 1));
  }
  if (!has_id || !has_state) return std::nullopt;
  return job;
}

std::optional<SlurmJob> query_slurm_job(const std::string& job_id, std::string* error) {
  const auto fail = [error](const std::string& why) {
    if (error) *error = why;
    return std::nullopt;
  };
  if (find_program("scontrol").empty()) return fail("scontrol is not on PATH");
  const ProgramOutput r = run_program({"scontrol", "show", "job", "-o", job_id});
  if (r.exit_code != 0) {
    if (r.err.find("Invalid job id") != std::string::npos) return std::nullopt;
    const std::string message = trim(r.err.substr(0, r.err.find('\n')));
    return fail("scontrol failed: " +
                (message.empty() ? "exit " + std::to_string(r.exit_code) : message));
  }
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::optional<SlurmJob> job = parse_scontrol_job(line);
    if (job && job->id == job_id) return job;
  }
  return std::nullopt;
}

bool is_job_active(const std::string& state) {
  for (const char* ended : {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                            "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY", "SPECIAL_EXIT", "REVOKED"}) {
    // scontrol may add flags after the base state ("CANCELLED by 0").
    if (state.rfind(ended, 0) == 0) return false;
  }
  return !state.empty();
}

int parse_sinfo_cpus(const std::string& output, const std::string& partition) {
  std::istringstream lines(output);
  std::string line;
  int fewest = 0;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name, cpus;
    if (!(fields >> name >> cpus)) continue;
    const bool is_default = !name.empty() && name.back() == '*';
    if (is_default) name.pop_back();
    if (partition.empty() ? !is_default : name != partition) continue;
    const int n = std::atoi(cpus.c_str());  // "64+" means 64 and more on some nodes.
    if (n > 0 && (fewest == 0 || n < fewest)) fewest = n;
  }
  return fewest;
}

int cpus_per_node(const std::string& partition) {
  if (find_program("sinfo").empty()) return 0;
  const ProgramOutput r = run_program({"sinfo", "-h", "-o", "%P %c"});
  return r.exit_code == 0 ? parse_sinfo_cpus(r.out, partition) : 0;
}

int parse_sinfo_nodes(const std::string& output, const std::string& partition) {
  std::istringstream lines(output);
  std::string line;
  int nodes = 0;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name, count;
    if (!(fields >> name >> count)) continue;
    const bool is_default = !name.empty() && name.back() == '*';
    if (is_default) name.pop_back();
    if (partition.empty() ? !is_default : name != partition) continue;
    nodes += std::max(0, std::atoi(count.c_str()));
  }
  return nodes;
}

int nodes_in_partition(const std::string& partition) {
  if (find_program("sinfo").empty()) return 0;
  const ProgramOutput r = run_program({"sinfo", "-h", "-o", "%P %D"});
  return r.exit_code == 0 ? parse_sinfo_nodes(r.out, partition) : 0;
}

}  // namespace journey
