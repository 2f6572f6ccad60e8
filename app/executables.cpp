#include "app/executables.h"

#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace journey {

std::string own_executable() {
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) throw DataError(std::string("cannot locate own executable: ") + std::strerror(errno));
  return std::string(self, static_cast<size_t>(n));
}

std::string torch_executable() {
  const std::string self = own_executable();
  return self.substr(0, self.rfind('/') + 1) + "journey-torch";
}

}  // namespace journey
