#include "io/checkpoint_dir.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "common/error.h"
#include "common/log.h"
#include "io/checkpoint_file.h"

namespace journey {
namespace {

namespace fs = std::filesystem;

constexpr char kPrefix[] = "ckpt-";
constexpr char kSuffix[] = ".h5";

// The first problem that makes `path` invalid, or "" when it is valid; `run_id` receives
// the checkpoint's run_id attribute ("" when it has none).
std::string first_problem(const std::string& path, std::string* run_id = nullptr) {
  try {
    const CheckpointReader reader = CheckpointReader::open(path);
    std::vector<CheckpointProblem> problems = reader.verify();
    if (run_id != nullptr && reader.has_attr(checkpoint::kRunIdAttr)) {
      *run_id = reader.attr_string(checkpoint::kRunIdAttr);
    }
    if (problems.empty()) return "";
    return "dataset '" + problems.front().dataset + "': " + problems.front().error +
           (problems.size() > 1 ? " (and " + std::to_string(problems.size() - 1) + " more)" : "");
  } catch (const DataError& e) {
    return e.what();
  }
}

// The cheap half of first_problem: the file opens as a checkpoint of this format and its root
// attributes match their checksum; no dataset is read. `run_id` as there.
std::string first_header_problem(const std::string& path, std::string* run_id) {
  try {
    const CheckpointReader reader = CheckpointReader::open(path);
    const std::vector<CheckpointProblem> problems = reader.verify_attributes();
    if (!problems.empty()) return problems.front().error;
    if (reader.has_attr(checkpoint::kRunIdAttr)) {
      *run_id = reader.attr_string(checkpoint::kRunIdAttr);
    }
    return "";
  } catch (const DataError& e) {
    return e.what();
  }
}

}  // namespace

std::string checkpoint_file_name(int64_t step) {
  char name[48];
  std::snprintf(name, sizeof name, "%s%09lld%s", kPrefix, static_cast<long long>(step), kSuffix);
  return name;
}

std::optional<int64_t> checkpoint_step(const std::string& file_name) {
  const size_t prefix = sizeof kPrefix - 1, suffix = sizeof kSuffix - 1;
  if (file_name.size() <= prefix + suffix || file_name.compare(0, prefix, kPrefix) != 0 ||
      file_name.compare(file_name.size() - suffix, suffix, kSuffix) != 0) {
    return std::nullopt;
  }
  const std::string digits = file_name.substr(prefix, file_name.size() - prefix - suffix);
  if (digits.size() > 18 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) {
    return std::nullopt;
  }
  return std::stoll(digits);
}

std::string checkpoint_path(const std::string& dir, int64_t step) {
  return (fs::path(dir) / checkpoint_file_name(step)).string();
}

std::vector<CheckpointEntry> list_checkpoints(const std::string& dir) {
  std::vector<CheckpointEntry> entries;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return entries;
  fs::directory_iterator it(dir, ec);
  if (ec) throw DataError("cannot list checkpoint directory " + dir + ": " + ec.message());
  for (const fs::directory_entry& entry : it) {
    std::optional<int64_t> step = checkpoint_step(entry.path().filename().string());
    if (step) entries.push_back({*step, entry.path().string()});
  }
  std::sort(entries.begin(), entries.end(),
            [](const CheckpointEntry& a, const CheckpointEntry& b) { return a.step < b.step; });
  return entries;
}

std::optional<CheckpointEntry> latest_valid(const std::string& dir,
                                            std::vector<CheckpointEntry>* skipped) {
  std::vector<CheckpointEntry> entries = list_checkpoints(dir);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    std::string problem = first_problem(it->path);
    if (problem.empty()) return *it;
    log::warn("skipping checkpoint " + it->path + ", which is not valid: " + problem);
    if (skipped != nullptr) skipped->push_back(*it);
  }
  return std::nullopt;
}

std::string set_aside_invalid(const CheckpointEntry& entry) {
  std::error_code ec;
  // Only files: a directory or other entry under a checkpoint's name is not ours to move (the
  // writer refuses to replace it).
  if (!fs::is_regular_file(fs::symlink_status(entry.path, ec))) return "";
  std::string aside = entry.path + ".invalid";
  for (int n = 2; fs::exists(fs::symlink_status(aside, ec)); ++n) {
    aside = entry.path + ".invalid-" + std::to_string(n);
  }
  fs::rename(entry.path, aside, ec);
  if (ec) {
    throw DataError("cannot rename the invalid checkpoint " + entry.path + " to " + aside +
                    " (a resumed run would write over it): " + ec.message());
  }
  return aside;
}

std::string resolve_checkpoint(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw DataError("checkpoint " + path + " does not exist");
  if (!fs::is_directory(status)) return path;
  const std::string nested = (fs::path(path) / "checkpoints").string();
  const std::string dir = fs::is_directory(nested, ec) ? nested : path;
  const std::optional<CheckpointEntry> newest = latest_valid(dir);
  if (!newest) {
    throw DataError("directory " + dir + " holds no valid checkpoint (ckpt-<step>.h5); " +
                    std::to_string(list_checkpoints(dir).size()) + " checkpoint file(s) found");
  }
  log::info("using " + newest->path + ", the newest valid checkpoint in " + dir);
  return newest->path;
}

std::vector<std::string> prune_old(const std::string& dir, int64_t keep_last_n,
                                   const std::string& run_id) {
  const int64_t keep = std::max<int64_t>(keep_last_n, 1);
  std::vector<CheckpointEntry> entries = list_checkpoints(dir);
  std::vector<std::string> deleted;
  int64_t valid_seen = 0;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    std::string its_run;
    if (!first_header_problem(it->path, &its_run).empty() || its_run != run_id) continue;
    if (++valid_seen <= keep) continue;
    std::error_code ec;
    if (!fs::remove(it->path, ec) && ec) {
      throw DataError("cannot delete old checkpoint " + it->path + ": " + ec.message());
    }
    deleted.push_back(it->path);
  }
  return deleted;
}

std::vector<std::string> remove_stale_temporaries(const std::string& dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return removed;
  fs::directory_iterator it(dir, ec);
  if (ec) throw DataError("cannot list checkpoint directory " + dir + ": " + ec.message());
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    const size_t tmp = name.find(".tmp-");
    if (name.rfind(".", 0) != 0 || tmp == std::string::npos ||
        !checkpoint_step(name.substr(1, tmp - 1))) {
      continue;
    }
    if (!fs::remove(entry.path(), ec) && ec) {
      throw DataError("cannot delete " + entry.path().string() + ": " + ec.message());
    }
    removed.push_back(entry.path().string());
  }
  return removed;
}

}  // namespace journey
