// Where the running `journey` executables are. `journey` and `journey-torch` are built into
// one directory (app/command.h), so each finds the other beside itself; `journey submit`
// hands its own path to the batch job so that the ranks run the same build.
//
// Errors: DataError ("cannot locate own executable: <reason>") when /proc/self/exe cannot be
// read.
#pragma once

#include <string>

namespace journey {

// The absolute path of the running executable.
std::string own_executable();

// journey-torch in the directory of the running executable (which need not exist).
std::string torch_executable();

}  // namespace journey
