// Errors that reach the user.
//
// Journey reports every problem a user can fix (a bad config value, an unknown flag, a
// corrupt or foreign file) as an exception carrying a complete sentence that names the key
// or file and says what was expected. main() prints it and exits with the code of its kind
// (common/exit_codes.h). Programming errors stay assertions.
#pragma once

#include <stdexcept>
#include <string>

namespace journey {

// A bad command line or config value: the run never starts. Exit code 2.
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& what) : std::runtime_error(what) {}
};

// A file that is missing, truncated, corrupt or not ours. Exit code 1.
class DataError : public std::runtime_error {
 public:
  explicit DataError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace journey
