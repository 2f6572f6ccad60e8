#include "sweep/cell_progress.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace journey {
namespace {

namespace fs = std::filesystem;

// The complete lines in the last `bytes` of a file, oldest first.
std::vector<std::string> tail_lines(const std::string& path, std::streamoff bytes) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  if (!in) return lines;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > bytes ? size - bytes : 0;
  in.seekg(start);
  std::string line;
  if (start > 0) std::getline(in, line);  // Partial first line.
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

double age_seconds(const std::string& path) {
  std::error_code ec;
  const auto written = fs::last_write_time(path, ec);
  if (ec) return 0;
  return std::chrono::duration<double>(fs::file_time_type::clock::now() - written).count();
}

// The last row of metrics.csv: "step,loss,..." with step counted from 0.
std::optional<CellProgress> parse_metrics_row(const std::string& header, const std::string& row) {
  std::istringstream names(header), values(row);
  std::string name, value;
  CellProgress p;
  bool has_step = false, has_loss = false;
  while (std::getline(names, name, ',') && std::getline(values, value, ',')) {
    try {
      if (name == "step") {
        p.step = std::stoll(value) + 1;
        has_step = true;
      } else if (name == "loss") {
        p.loss = std::stod(value);
        has_loss = true;
      }
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (!has_step || !has_loss) return std::nullopt;
  p.source = "metrics.csv";
  return p;
}

}  // namespace

std::optional<CellProgress> parse_progress_line(const std::string& line) {
  const size_t step_at = line.find(" step ");
  const size_t loss_at = line.find("| loss ");
  if (step_at == std::string::npos || loss_at == std::string::npos) return std::nullopt;
  CellProgress p;
  long long step = 0, total = 0;
  double loss = 0;
  if (std::sscanf(line.c_str() + step_at, " step %lld/%lld", &step, &total) != 2 ||
      std::sscanf(line.c_str() + loss_at, "| loss %lf", &loss) != 1) {
    return std::nullopt;
  }
  p.step = step;
  p.total_steps = total;
  p.loss = loss;
  p.source = "train.log";
  return p;
}

std::optional<CellProgress> read_cell_progress(const std::string& cell_dir) {
  const std::string log = cell_dir + "/train.log";
  const std::vector<std::string> lines = tail_lines(log, 8192);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (std::optional<CellProgress> p = parse_progress_line(*it)) {
      p->age_s = age_seconds(log);
      return p;
    }
  }
  const std::string metrics = cell_dir + "/metrics.csv";
  std::ifstream in(metrics);
  std::string header;
  if (!std::getline(in, header)) return std::nullopt;
  const std::vector<std::string> rows = tail_lines(metrics, 4096);
  if (rows.empty() || rows.back() == header) return std::nullopt;
  std::optional<CellProgress> p = parse_metrics_row(header, rows.back());
  if (p) p->age_s = age_seconds(metrics);
  return p;
}

}  // namespace journey
