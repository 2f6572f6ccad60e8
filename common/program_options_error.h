// Boost.Program_options' error message, safe for any input.
//
// Boost 1.74 fills its message template by replacing each placeholder (%value%, %option%,
// %original_token%, ...) with the offending text until none is left, so a key, flag or value
// that contains a placeholder itself (`lr = %value%`, `--x%original_token%y`) makes what()
// loop forever (found by tests/fuzz). This shows '%' in that text as '?' first.
#pragma once

#include <boost/program_options/errors.hpp>
#include <string>

namespace journey {

std::string program_options_error_text(boost::program_options::error& e);

}  // namespace journey
