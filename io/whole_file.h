// Reading a small file (a config, a CSV, a figure) whole. Writing one goes through
// io/atomic_file.h.
#pragma once

#include <string>

namespace journey {

// The file's bytes; empty when it does not exist or cannot be opened, for callers to whom a
// missing file and an empty one mean the same (an optional output not written yet).
std::string read_file_or_empty(const std::string& path);

}  // namespace journey
