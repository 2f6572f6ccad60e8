// What `journey --version` prints, and what a run records about the program that made it.
#pragma once

#include <string>

namespace journey {

// The release (CMake's project version), e.g. "0.30.0".
const char* journey_release();

// The commit the binary was built from: `git describe --always --dirty` at build time
// ("3f2a1c9d0e4b-dirty" when the tree had uncommitted changes), or "unknown" when the sources
// were not a git checkout.
const char* journey_git_revision();

// "journey 0.30.0 (git 3f2a1c9d0e4b)".
std::string journey_version_line(const std::string& program);

}  // namespace journey
