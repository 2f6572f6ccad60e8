// Text from files (a ledger's failure reason, Slurm's answers) made safe to print on a
// terminal: a tampered or corrupt file must not move the cursor, clear the screen or forge
// lines of output with control characters or escape sequences.
#pragma once

#include <string>

namespace journey {

// `text` with every control character (below 0x20, and 0x7f) written as \n, \t, \r or \xNN;
// everything else (UTF-8 included) unchanged.
std::string terminal_safe(const std::string& text);

}  // namespace journey
