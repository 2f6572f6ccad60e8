// Minimal logging to stderr: "[journey HH:MM:SS rank R] message".
//
// Progress lines (the live training and sweep lines) go to stdout through their own
// printers; this is for events and warnings.
#pragma once

#include <sstream>
#include <string>

namespace journey::log {

// Sets the rank shown in every line (-1 hides it). Call once after MPI is up.
void set_rank(int rank);
void info(const std::string& message);
void warn(const std::string& message);
void error(const std::string& message);

}  // namespace journey::log
