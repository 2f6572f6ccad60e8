// Boost.Program_options' error message, safe for any input.
//
// Boost 1.74 fills its message template by replacing each placeholder (%value%, %option%,
// %original_token%, ...) with the offending text until none is left, so a key, flag or value
// that contains a placeholder itself (`lr = %value%`, `--x%original_token%y`) makes what()
// loop forever (found by tests/fuzz). This shows '%' in that text as '?' first.
#pragma once

#include <boost/program_options/errors.hpp>
#include <boost/program_options/options_description.hpp>
#include <string>

namespace journey {

std::string program_options_error_text(boost::program_options::error& e);

// " (did you mean '<dashes>NAME'?)" when `typed`, an option as written (leading dashes and any
// "=value" ignored), is near a long name of `options` (common/closest_name.h); else "".
std::string did_you_mean_option(const std::string& typed,
                                const boost::program_options::options_description& options,
                                const std::string& dashes);

}  // namespace journey
