// An exclusive lock on a directory, so that two processes never work in one sweep or run
// directory at once (two sweeps on one --out would train the same cells twice and lose each
// other's ledger updates).
//
// The lock is flock(2) on DIR/.journey.lock, which holds the holder's host, pid, start time
// and what it is doing, for the error the next process gets. The kernel releases the lock
// when the holder exits, however it exits, so a crashed process never leaves a directory
// locked; the file itself stays. A crashed node's lock on a network filesystem lasts until the
// server gives up on the node (acquire_waiting()). (On NFS, flock is emulated with byte-range
// locks, which NFSv4 servers honour across hosts; on some Lustre and NFSv3 mounts (Lustre with -o
// localflock, NFS with nolock) locks are local to one host, and two hosts can then both hold one:
// docs/slurm.md. Where flock does nothing at all (some FUSE filesystems), acquire() notices,
// because another process it starts gets the same lock, and warns.)
#pragma once

#include <optional>
#include <string>

namespace journey {

class DirectoryLock {
 public:
  // Locks `dir` (which must exist) for `activity` ("journey sweep", ...). Throws UsageError
  // naming the holder when another process holds the lock, DataError when the lock file
  // cannot be created. Warns when the lock does not keep other processes out
  // (excludes_other_processes()).
  static DirectoryLock acquire(const std::string& dir, const std::string& activity);
  // acquire(), trying again every 2 s for up to `wait_seconds` while another process holds
  // the lock (saying once whom it waits for), then throwing as acquire() does. For a Slurm job
  // requeued after a node crash: on NFSv4 or Lustre the dead node's lock lasts until its
  // lease expires or the client is evicted (a minute or more), not until its process ends.
  static DirectoryLock acquire_waiting(const std::string& dir, const std::string& activity,
                                       double wait_seconds);
  DirectoryLock(DirectoryLock&& other) noexcept;
  DirectoryLock& operator=(DirectoryLock&& other) noexcept;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock();  // Releases the lock.

  // Throws UsageError naming the holder when a directory above `dir` is locked now (a
  // `journey train` aimed at a cell of a running sweep: the sweep's lock is on the sweep
  // directory, not on its cells). Locks nothing.
  static void refuse_if_an_ancestor_is_locked(const std::string& dir, const std::string& activity);

  static std::string lock_file(const std::string& dir);  // DIR/.journey.lock

  // Whether another process is refused DIR's lock now: a child (util-linux flock(1)) tries to
  // take it at once. True while this process holds it on a filesystem that honours flock;
  // nothing when flock(1) is not installed.
  static std::optional<bool> excludes_other_processes(const std::string& dir);

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace journey
