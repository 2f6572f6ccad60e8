#include "common/ini_entries.h"

#include <sstream>

namespace journey {
namespace {

std::string trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\r");
  const size_t end = s.find_last_not_of(" \t\r");
  return begin == std::string::npos ? std::string() : s.substr(begin, end - begin + 1);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ini_entries(const std::string& ini) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::istringstream in(ini);
  std::string line, section;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    entries.emplace_back(section + "." + trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
  }
  return entries;
}

}  // namespace journey
