// Durations as the progress lines print them: "1h02m03s"; "?" when unknown (negative, not a
// number, or beyond four months, which only a rate near zero gives).
#pragma once

#include <string>

namespace journey {

std::string duration_text(double seconds);

}  // namespace journey
