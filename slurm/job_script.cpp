#include "slurm/job_script.h"

#include <map>
#include <numeric>
#include <vector>

#include <optional>

#include "common/error.h"
#include "slurm/job_template_text.h"  // Generated from slurm/sweep.sbatch.in.
#include "sweep/sweep_layout.h"

namespace journey {
namespace {

// Slurm may send the --signal warning up to this much earlier than asked (sbatch(1)).
constexpr int64_t kSignalEarlyS = 60;
constexpr int kMaxSignalTime = 65535;  // sbatch's limit for --signal's @time.
constexpr int kMaxGpusPerNode = 64;

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

int worker_groups(const JobRequest& request) {
  if (request.gpus_per_node <= 0) {
    return worker_groups(request.nodes, request.ranks_per_node, request.group_size);
  }
  if (request.nodes < 1) {
    throw UsageError("--nodes must be at least 1, not " + std::to_string(request.nodes));
  }
  if (request.gpus_per_node > kMaxGpusPerNode) {
    throw UsageError("--gpus-per-node " + std::to_string(request.gpus_per_node) +
                     " is more than any node has (at most " + std::to_string(kMaxGpusPerNode) +
                     ")");
  }
  const int workers = request.nodes * request.gpus_per_node;
  if (const std::optional<SweepLayout> layout =
          SweepLayout::of(request.total_ranks(), request.group_size)) {
    return layout->num_groups();
  }
  throw UsageError("--nodes " + std::to_string(request.nodes) + " x --gpus-per-node " +
                   std::to_string(request.gpus_per_node) + " = " + std::to_string(workers) +
                   " GPU ranks (one per GPU, beside the coordinator) cannot form worker groups "
                   "of --group-size " +
                   std::to_string(request.group_size) + ": the group size must divide " +
                   std::to_string(workers) + " (e.g. " + std::to_string(request.gpus_per_node) +
                   ", a node's GPUs)");
}

void check_sbatch_pass_through(const std::string& option) {
  const size_t eq = option.find('=');
  const std::string name = option.substr(0, eq);
  bool well_formed = name.size() > 2 && name.compare(0, 2, "--") == 0 &&
                     (eq == std::string::npos || eq + 1 < option.size());
  for (size_t i = 2; well_formed && i < name.size(); ++i) {
    const char c = name[i];
    well_formed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  }
  for (char c : option) {
    well_formed = well_formed && static_cast<unsigned char>(c) > 0x20 && c != 0x7f && c != '#';
  }
  if (!well_formed) {
    throw UsageError("--sbatch-arg '" + option +
                     "' is not one sbatch option in long form without spaces, e.g. "
                     "--qos=high, --constraint=a100 or --exclusive");
  }
  static const std::map<std::string, std::string> kOwn = {
      {"--job-name", "--job-name"},
      {"--nodes", "--nodes"},
      {"--ntasks", "--ranks-per-node"},
      {"--ntasks-per-node", "--ranks-per-node"},
      {"--cpus-per-task", "--threads-per-rank"},
      {"--time", "--time"},
      {"--chdir", "--out"},
      {"--output", "--out"},
      {"--error", "--out"},
      {"--open-mode", "--out"},
      {"--requeue", "--max-requeues"},
      {"--no-requeue", "--max-requeues"},
      {"--signal", "--warn-before"},
      {"--partition", "--partition"},
      {"--account", "--account"},
      {"--gpus-per-node", "--gpus-per-node"},
      {"--gpu-bind", "--gpus-per-node"},
      {"--gpus", "--gpus-per-node"},
      {"--wrap", "the job script"},
      {"--parsable", "journey submit itself"},
      {"--array", "journey submit itself"},
      {"--wait", "journey submit itself"},
      {"--export", "journey submit itself (the ranks need the submitting environment)"},
  };
  // sbatch (getopt_long) also takes any unambiguous prefix of an option: --arr=0-1 is
  // --array, --sig=USR1@60 is --signal. A prefix of one of ours is refused like the option.
  for (const auto& [reserved, instead] : kOwn) {
    if (reserved.compare(0, name.size(), name) == 0) {
      const std::string as = name == reserved ? "" : " (sbatch reads it as " + reserved + ")";
      throw UsageError("--sbatch-arg '" + option + "'" + as + ": journey submit sets " + reserved +
                       " itself; use " + instead);
    }
  }
}

std::vector<std::string> sbatch_options(const JobRequest& r) {
  std::vector<std::string> options = {"--job-name=" + r.job_name,
                                      "--nodes=" + std::to_string(r.nodes)};
  // --ntasks is the total and --ntasks-per-node the most on one node; both are given so that
  // no SBATCH_NTASKS* variable can change the layout.
  options.push_back("--ntasks=" + std::to_string(r.total_ranks()));
  if (r.gpus_per_node > 0) {
    options.push_back("--ntasks-per-node=" + std::to_string(r.gpus_per_node + 1));
    options.push_back("--gpus-per-node=" + std::to_string(r.gpus_per_node));
    // Every rank sees every GPU of its node and takes its own by its local index among the
    // node's workers (the coordinator takes none).
    options.push_back("--gpu-bind=none");
  } else {
    options.push_back("--ntasks-per-node=" + std::to_string(r.ranks_per_node));
  }
  options.push_back("--cpus-per-task=" + std::to_string(r.threads_per_rank));
  options.push_back("--time=" + r.time);
  options.push_back("--chdir=" + r.out_dir);
  options.push_back("--output=" + r.out_dir + "/logs/job-%j.out");
  options.push_back("--error=" + r.out_dir + "/logs/job-%j.out");
  options.push_back("--open-mode=append");
  options.push_back("--requeue");
  options.push_back("--signal=USR2@" + std::to_string(r.warn_before_s));
  if (!r.partition.empty()) options.push_back("--partition=" + r.partition);
  if (!r.account.empty()) options.push_back("--account=" + r.account);
  options.insert(options.end(), r.extra_sbatch_options.begin(), r.extra_sbatch_options.end());
  return options;
}

std::vector<std::string> describe_sbatch_environment(const std::vector<std::string>& environment) {
  // The variables sbatch(1) reads in place of options this job sets on its command line.
  static const std::map<std::string, std::string> kOverridden = {
      {"SBATCH_TIMELIMIT", "--time"},
      {"SBATCH_SIGNAL", "--signal"},
      {"SBATCH_REQUEUE", "--requeue"},
      {"SBATCH_NO_REQUEUE", "--requeue"},
      {"SBATCH_OUTPUT", "--output"},
      {"SBATCH_ERROR", "--error"},
      {"SBATCH_OPEN_MODE", "--open-mode"},
      {"SBATCH_JOB_NAME", "--job-name"},
      {"SBATCH_NTASKS", "--ntasks"},
      {"SBATCH_NTASKS_PER_NODE", "--ntasks-per-node"},
      {"SBATCH_CPUS_PER_TASK", "--cpus-per-task"},
      {"SBATCH_CHDIR", "--chdir"},
      {"SBATCH_NODES", "--nodes"},
      {"SBATCH_GPUS_PER_NODE", "--gpus-per-node"},
      {"SBATCH_GPU_BIND", "--gpu-bind"},
  };
  std::vector<std::string> sentences;
  for (const std::string& entry : environment) {
    if (entry.rfind("SBATCH_", 0) != 0) continue;
    const std::string name = entry.substr(0, entry.find('='));
    if (name == "SBATCH_WAIT" || name == "SBATCH_ARRAY_INX") {
      throw UsageError(
          "the environment sets " + entry + ", which would make sbatch " +
          (name == "SBATCH_WAIT" ? "wait for the whole sweep" : "submit the sweep as a job array") +
          "; unset " + name + " for journey submit");
    }
    const auto it = kOverridden.find(name);
    sentences.push_back(it != kOverridden.end()
                            ? entry + " in the environment is overridden by the job's " + it->second
                            : entry + " in the environment applies to the job");
  }
  return sentences;
}

void validate_job_request(const JobRequest& request) {
  worker_groups(request);
  for (const std::string& option : request.extra_sbatch_options) {
    check_sbatch_pass_through(option);
  }
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
  std::vector<std::string> site_lines;
  if (!request.partition.empty()) site_lines.push_back("--partition=" + request.partition);
  if (!request.account.empty()) site_lines.push_back("--account=" + request.account);
  for (const std::string& option : request.extra_sbatch_options) site_lines.push_back(option);
  std::string site_options;
  for (const std::string& line : site_lines) {
    site_options += (site_options.empty() ? "" : "\n") + std::string("#SBATCH ") + line;
  }
  std::string task_layout, rank_placement, srun_options;
  if (request.gpus_per_node > 0) {
    const std::string g = std::to_string(request.gpus_per_node);
    task_layout = "#SBATCH --ntasks=" + std::to_string(request.total_ranks()) +
                  "\n#SBATCH --ntasks-per-node=" + std::to_string(request.gpus_per_node + 1) +
                  "\n#SBATCH --gpus-per-node=" + g + "\n#SBATCH --gpu-bind=none";
    rank_placement =
        "# One rank per GPU, and the coordinator (rank 0, no GPU) on the first node: a host file\n"
        "# listing the first node " +
        g + " + 1 times and every other node " + g +
        " times.\n"
        "export SLURM_HOSTFILE=" +
        shell_quote(request.out_dir) +
        "/logs/hosts-$SLURM_JOB_ID\n"
        "first=1\n"
        "for host in $(scontrol show hostnames \"$SLURM_JOB_NODELIST\"); do\n"
        "  [ \"$first\" = 1 ] && echo \"$host\" && first=0\n"
        "  for _ in $(seq " +
        g +
        "); do echo \"$host\"; done\n"
        "done > \"$SLURM_HOSTFILE\"";
    srun_options = "--distribution=arbitrary ";
  } else {
    task_layout = "#SBATCH --ntasks-per-node=" + std::to_string(request.ranks_per_node);
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
      {"TASK_LAYOUT", task_layout},
      {"RANK_PLACEMENT", rank_placement},
      {"SRUN_OPTIONS", srun_options},
      {"GPUS_PER_NODE", std::to_string(request.gpus_per_node)},
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
