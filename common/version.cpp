#include "common/version.h"

#include "journey_git_revision.h"  // Generated at every build: cmake/version_header.cmake.

namespace journey {

const char* journey_release() {
  return JOURNEY_RELEASE;
}

const char* journey_git_revision() {
  return JOURNEY_GIT_REVISION;
}

std::string journey_version_line(const std::string& program) {
  return program + " " + journey_release() + " (git " + journey_git_revision() + ")";
}

}  // namespace journey
