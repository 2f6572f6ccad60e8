#include "slurm/job_script.h"

#include <map>
#include <numeric>
#include <vector>

#include "common/error.h"
#include "slurm/job_template_text.h"  // Generated from slurm/sweep.sbatch.in.
#include "sweep/sweep_layout.h"

namespace journey {
namespace {

// Slurm may send the --signal warning up to this much earlier than asked (sbatch(1)).
constexpr int64_t kSignalEarlyS = 60;
constexpr int kMaxSignalTime = 65535;  // sbatch's limit for --signal's @time.

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

bool is_safe_word_char(char c, const std::string& extra) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         extra.find(c) != std::string::npos;
}

// #SBATCH lines take their value up to the end of the line, unquoted, and Slurm expands %
// in file names: such a path must be plain.
void check_sbatch_path(const std::string& path, const std::string& what) {
  if (path.empty() || path[0] != '/') {
    throw UsageError(what + " '" + path + "' must be an absolute path");
  }
  for (char c : path) {
    if (c == ' ' || c == '%' || c == '"' || c == '\'' || c == '\\' || c == '`' || c == '$' ||
        static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      throw UsageError(what + " '" + path +
                       "' cannot appear in #SBATCH lines: it must not contain spaces, quotes, "
                       "'%', '$', '\\' or control characters");
    }
  }
}

void check_sbatch_word(const std::string& value, const std::string& flag) {
  for (char c : value) {
    if (!is_safe_word_char(c, "._,-")) {
      throw UsageError(flag + " '" + value +
                       "' may hold only letters, digits, '.', '_', ',' and '-'");
    }
  }
}

}  // namespace

int64_t parse_time_limit(const std::string& text) {
  const auto bad = [&text] {
    return UsageError(
        "--time '" + text +
        "' is not a Slurm time limit: use minutes, minutes:seconds, "
        "hours:minutes:seconds, days-hours, days-hours:minutes or "
        "days-hours:minutes:seconds, with minutes and seconds below 60 and hours after a "
        "day count below 24 (e.g. 90, 2:00:00 or 1-12)");
  };
  int64_t days = 0;
  std::string clock = text;
  const size_t dash = text.find('-');
  if (dash != std::string::npos) {
    const std::string day_part = text.substr(0, dash);
    if (!all_digits(day_part)) throw bad();
    days = std::stoll(day_part);
    clock = text.substr(dash + 1);
  }
  const std::vector<std::string> fields = split(clock, ':');
  if (fields.size() > 3) throw bad();
  for (const std::string& f : fields) {
    if (!all_digits(f)) throw bad();
  }
  std::vector<int64_t> v;
  for (const std::string& f : fields) v.push_back(std::stoll(f));
  // Only the leading field may be large: 1:99:00 is a typo, not 2 h 39 min.
  const size_t first_bounded = dash != std::string::npos ? 0 : 1;
  for (size_t i = first_bounded; i < v.size(); ++i) {
    const int64_t limit = (dash != std::string::npos && i == 0) ? 24 : 60;
    if (v[i] >= limit) throw bad();
  }
  int64_t seconds = 0;
  if (dash != std::string::npos) {  // days-hours[:minutes[:seconds]]
    seconds =
        days * 86400 + v[0] * 3600 + (v.size() > 1 ? v[1] * 60 : 0) + (v.size() > 2 ? v[2] : 0);
  } else if (v.size() == 1) {  // minutes
    seconds = v[0] * 60;
  } else if (v.size() == 2) {  // minutes:seconds
    seconds = v[0] * 60 + v[1];
  } else {  // hours:minutes:seconds
    seconds = v[0] * 3600 + v[1] * 60 + v[2];
  }
  if (seconds <= 0) throw UsageError("--time '" + text + "' must be longer than zero");
  return seconds;
}

int worker_groups(int nodes, int ranks_per_node, int group_size) {
  if (nodes < 1) throw UsageError("--nodes must be at least 1, not " + std::to_string(nodes));
  if (ranks_per_node < 1) {
    throw UsageError("--ranks-per-node must be at least 1, not " + std::to_string(ranks_per_node));
  }
  if (group_size < 1) {
    throw UsageError("--group-size must be at least 1, not " + std::to_string(group_size));
  }
  const int ranks = nodes * ranks_per_node;
  if (std::optional<SweepLayout> layout = SweepLayout::of(ranks, group_size)) {
    return layout->num_groups();
  }
  std::string message = "--nodes " + std::to_string(nodes) + " x --ranks-per-node " +
                        std::to_string(ranks_per_node) + " = " + std::to_string(ranks) +
                        " ranks, but a sweep needs 1 + G*k ranks (one coordinator and G >= 1 "
                        "worker groups of --group-size k = " +
                        std::to_string(group_size) + ")";
  if (std::gcd(nodes, group_size) != 1) {
    message += "; with " + std::to_string(nodes) + " nodes no --ranks-per-node fits groups of " +
               std::to_string(group_size) + ": change --nodes or --group-size";
  } else {
    std::vector<int> fits;
    for (int r = 1; fits.size() < 3 && r <= ranks_per_node + 2 * group_size + 1; ++r) {
      if (SweepLayout::of(nodes * r, group_size) && r != ranks_per_node) {
        fits.push_back(r);
      }
    }
    message += "; --ranks-per-node";
    for (size_t i = 0; i < fits.size(); ++i) {
      message += (i == 0 ? " " : i + 1 == fits.size() ? " or " : ", ") + std::to_string(fits[i]);
    }
    message += " would fit";
  }
  throw UsageError(message);
}

void validate_job_request(const JobRequest& request) {
  worker_groups(request.nodes, request.ranks_per_node, request.group_size);
  if (request.threads_per_rank < 1) {
    throw UsageError("--threads-per-rank must be at least 1, not " +
                     std::to_string(request.threads_per_rank));
  }
  if (request.time.empty()) throw UsageError("missing --time (the job's time limit, e.g. 2:00:00)");
  const int64_t limit = parse_time_limit(request.time);
  if (request.warn_before_s < 1 || request.warn_before_s > kMaxSignalTime) {
    throw UsageError("--warn-before must be between 1 and " + std::to_string(kMaxSignalTime) +
                     " seconds, not " + std::to_string(request.warn_before_s));
  }
  if (limit <= request.warn_before_s + kSignalEarlyS) {
    throw UsageError("--time " + request.time + " (" + std::to_string(limit) +
                     " s) leaves no time to train: Slurm sends SIGUSR2 --warn-before " +
                     std::to_string(request.warn_before_s) + " s before the limit and may do so " +
                     std::to_string(kSignalEarlyS) + " s earlier, so --time must exceed " +
                     std::to_string(request.warn_before_s + kSignalEarlyS) +
                     " s; lengthen --time or shorten --warn-before");
  }
  if (request.max_requeues < 0) {
    throw UsageError("--max-requeues must be 0 or more, not " +
                     std::to_string(request.max_requeues));
  }
  check_sbatch_word(request.partition, "--partition");
  check_sbatch_word(request.account, "--account");
  if (request.job_name.empty() || sanitize_job_name(request.job_name) != request.job_name) {
    throw UsageError("--job-name '" + request.job_name +
                     "' must be non-empty and hold only letters, digits, '.', '_' and '-'");
  }
  check_sbatch_path(request.out_dir, "the sweep directory (--out)");
  for (const std::string* path : {&request.journey_binary, &request.config_path}) {
    if (path->empty() || (*path)[0] != '/') {
      throw UsageError("internal: job path '" + *path + "' must be absolute");
    }
  }
}

const std::string& builtin_job_template() {
  static const std::string text = kBuiltinJobTemplate;
  return text;
}

std::string render_job_script(const std::string& template_text, const std::string& template_origin,
                              const JobRequest& request) {
  std::string site_options;
  if (!request.partition.empty()) site_options += "#SBATCH --partition=" + request.partition;
  if (!request.account.empty()) {
    site_options +=
        (site_options.empty() ? "" : "\n") + std::string("#SBATCH --account=") + request.account;
  }
  const std::map<std::string, std::string> values = {
      {"JOB_NAME", request.job_name},
      {"NODES", std::to_string(request.nodes)},
      {"RANKS_PER_NODE", std::to_string(request.ranks_per_node)},
      {"THREADS_PER_RANK", std::to_string(request.threads_per_rank)},
      {"TIME", request.time},
      {"WARN_BEFORE", std::to_string(request.warn_before_s)},
      {"MAX_REQUEUES", std::to_string(request.max_requeues)},
      {"SITE_OPTIONS", site_options},
      {"OUT_DIR", request.out_dir},
      {"OUT_DIR_ARG", shell_quote(request.out_dir)},
      {"CONFIG", shell_quote(request.config_path)},
      {"JOURNEY", shell_quote(request.journey_binary)},
      {"GROUP_SIZE", std::to_string(request.group_size)},
  };
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t open = template_text.find("{{", pos);
    if (open == std::string::npos) break;
    const size_t close = template_text.find("}}", open + 2);
    if (close == std::string::npos) {
      throw UsageError("the job template " + template_origin + " has a '{{' without '}}'");
    }
    const std::string name = template_text.substr(open + 2, close - open - 2);
    auto it = values.find(name);
    if (it == values.end()) {
      std::string known;
      for (const auto& [key, value] : values) known += (known.empty() ? "" : " ") + key;
      throw UsageError("the job template " + template_origin + " uses {{" + name +
                       "}}, which journey submit does not fill in (it fills in: " + known + ")");
    }
    out.append(template_text, pos, open - pos);
    out += it->second;
    pos = close + 2;
    // An empty value that was a whole line leaves no blank line behind.
    const bool whole_line = (open == 0 || template_text[open - 1] == '\n') &&
                            pos < template_text.size() && template_text[pos] == '\n';
    if (it->second.empty() && whole_line) ++pos;
  }
  out.append(template_text, pos, std::string::npos);
  return out;
}

std::string shell_quote(const std::string& text) {
  bool plain = !text.empty();
  for (char c : text) plain = plain && is_safe_word_char(c, "_./:=@%+,-");
  if (plain) return text;
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string sanitize_job_name(const std::string& text) {
  std::string name;
  for (char c : text) name += is_safe_word_char(c, "._-") ? c : '_';
  return name;
}

}  // namespace journey
