#include "report/machine_info.h"

#include <sys/utsname.h>

#include <fstream>
#include <thread>

#ifndef JOURNEY_VERSION
#define JOURNEY_VERSION "unknown"
#endif

namespace journey {

MachineInfo this_machine() {
  MachineInfo info;
  info.journey_version = JOURNEY_VERSION;
  info.host = info.os = info.cpu_model = "unknown";
  struct utsname name;
  if (uname(&name) == 0) {
    info.host = name.nodename;
    info.os = std::string(name.sysname) + " " + name.release + " " + name.machine;
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t value = line.find_first_not_of(" \t", line.find(':') + 1);
    if (value != std::string::npos) info.cpu_model = line.substr(value);
    break;
  }
  info.cores = static_cast<int>(std::thread::hardware_concurrency());
  return info;
}

}  // namespace journey
