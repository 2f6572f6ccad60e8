#include "slurm/submitted_jobs.h"

#include <ctime>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace journey {

std::string submitted_jobs_path(const std::string& sweep_dir) {
  return sweep_dir + "/slurm-jobs.txt";
}

void record_submitted_job(const std::string& sweep_dir, const std::string& job_id,
                          const std::string& note) {
  const std::string path = submitted_jobs_path(sweep_dir);
  char when[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", std::localtime(&now));
  std::ofstream out(path, std::ios::app);
  out << job_id << " " << when << " " << note << "\n";
  out.flush();
  if (!out) throw DataError("cannot append to " + path);
}

std::vector<std::string> submitted_job_ids(const std::string& sweep_dir) {
  std::ifstream in(submitted_jobs_path(sweep_dir));
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string id;
    if (words >> id) ids.push_back(id);
  }
  return ids;
}

}  // namespace journey
