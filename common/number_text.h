// Numbers in files people read and programs parse back: the shortest decimal text that reads
// back as the same double ("0.003", not "0.0030000000000000001" nor a rounded "4.451312346").
#pragma once

#include <string>

namespace journey {

// std::to_chars' shortest round-trip form; "nan", "inf" and "-inf" for the non-finite.
std::string shortest_decimal(double value);

}  // namespace journey
