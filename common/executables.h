// The `journey` executables and running them. `journey` and `journey-torch` are built into
// one directory (app/command.h), so each finds the other beside itself: `journey` execs
// journey-torch for the commands that train, `journey eval` runs it for scoring, the sweep's
// coordinator runs `journey fit` and `journey report`, and `journey submit` hands its own
// path to the batch job so that the ranks run the same build.
//
// Errors: DataError ("cannot locate own executable: <reason>") when /proc/self/exe cannot be
// read; DataError when a program cannot be started or waited for.
#pragma once

#include <string>
#include <vector>

namespace journey {

// The absolute path of the running executable.
std::string own_executable();

// The executable `name` ("journey" or "journey-torch") in the directory of the running one
// (which need not exist).
std::string sibling_executable(const std::string& name);

// The program's path if `name` is on PATH (or is a path to an executable), else "".
std::string find_program(const std::string& name);

// Runs argv[0] (a path) with argv and this process's environment, waits, and returns its
// exit code, or 128 + the signal that killed it.
int run_and_wait(const std::vector<std::string>& argv);

}  // namespace journey
