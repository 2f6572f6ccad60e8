// A run's checkpoint directory: ckpt-<step>.h5 files, the newest valid one, and pruning.
//
// Checkpoint files are named ckpt-<step zero-padded to 9 digits>.h5 and written atomically
// (io/atomic_file.h); only names of exactly that pattern count (any digit count is parsed, so
// steps past 999,999,999 still sort numerically), so temporary dot-files of writers that
// crashed are ignored. A checkpoint is *valid* when CheckpointReader::open() accepts it and
// verify() finds no problem, which reads it completely.
//
// Corrupt or truncated files are never deleted or written over: they are evidence, and a
// human decides. A run resuming before them renames them out of its way (set_aside_invalid).
// A missing directory holds no checkpoints; an unreadable one is a DataError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace journey {

struct CheckpointEntry {
  int64_t step = 0;
  std::string path;
};

// "ckpt-000001000.h5" for step 1000.
std::string checkpoint_file_name(int64_t step);
// The step of a checkpoint file name, or nothing when `file_name` is not one.
std::optional<int64_t> checkpoint_step(const std::string& file_name);
// dir/checkpoint_file_name(step).
std::string checkpoint_path(const std::string& dir, int64_t step);

// Every checkpoint file in `dir` by its name alone, oldest step first.
std::vector<CheckpointEntry> list_checkpoints(const std::string& dir);

// The newest valid checkpoint, or nothing. Each newer file that is not valid is skipped with a
// log::warn naming it and its first problem, and appended to `skipped` when given.
std::optional<CheckpointEntry> latest_valid(const std::string& dir,
                                            std::vector<CheckpointEntry>* skipped = nullptr);

// Renames a checkpoint file that is not valid to <path>.invalid (.invalid-2, ... when taken),
// a name no listing counts, and returns the new path: a run resuming from an older step would
// otherwise write its own checkpoint of that step over it. Returns "" for an entry that is
// not a regular file (left where it is); DataError when the rename fails.
std::string set_aside_invalid(const CheckpointEntry& entry);

// What a user means by `path` on a command that reads one checkpoint (export, eval): a file is
// itself; a directory is its newest valid checkpoint, looked for in path/checkpoints (a cell's
// or a run's directory) when that exists, else in path itself. DataError naming the directory
// when it holds no valid checkpoint, or when `path` does not exist.
std::string resolve_checkpoint(const std::string& path);

// Deletes checkpoints of run `run_id` (their run_id attribute) older than the `keep_last_n`
// newest of that run (at least one is always kept) and returns the deleted paths. Counted
// are files that open as checkpoints with intact attributes; their datasets are not read
// (that would read every kept checkpoint whole after each write: minutes for the paper's
// sizes), so the newest, which the caller has just written and committed, is what stands
// behind the guarantee. Files that do not open and other runs' checkpoints are left alone.
std::vector<std::string> prune_old(const std::string& dir, int64_t keep_last_n,
                                   const std::string& run_id);

// Deletes the temporary files that checkpoint writers killed before their commit left in
// `dir` (".ckpt-<step>.h5.tmp-<pid>-<n>", io/atomic_file.h) and returns their paths. Only for a
// process that holds the run's directory lock (io/directory_lock.h): no writer is then alive.
std::vector<std::string> remove_stale_temporaries(const std::string& dir);

}  // namespace journey
