// Where and with what the report was made: the Journey version (`git describe` when the
// build was configured, JOURNEY_VERSION; "unknown" outside a git checkout), the operating
// system (uname), the CPU model (/proc/cpuinfo, as lscpu shows it) and the number of
// logical cores. Used for the report's metadata section. No errors: a value that cannot be
// read is "unknown".
#pragma once

#include <string>

namespace journey {

struct MachineInfo {
  std::string journey_version;
  std::string host;  // uname nodename
  std::string os;    // uname sysname release machine
  std::string cpu_model;
  int cores = 0;
};

MachineInfo this_machine();

}  // namespace journey
