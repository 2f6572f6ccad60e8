// The entries of INI text as written, without interpreting them: for showing a stored config
// (a checkpoint's config attribute, a cell's config.ini), including keys this build does not
// know. common/config.h is what parses a config into a RunConfig.
//
// Each "key = value" line under a "[section]" line becomes ("section.key", "value"), in file
// order, with the section, key and value trimmed of blanks; a key repeated is listed again.
// Comment lines (# or ;), blank lines and lines without '=' are skipped. Never throws.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace journey {

std::vector<std::pair<std::string, std::string>> ini_entries(const std::string& ini);

}  // namespace journey
