#include "prepare/text.h"

#include <cstdint>

namespace journey {
namespace {

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

// Calls `line(text)` for each line of `text` without its LF; a final line without LF counts.
template <class F>
void for_each_line(std::string_view text, F line) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    line(text.substr(start, end - start));
    start = end + 1;
  }
}

bool is_continuation(unsigned char byte) {
  return (byte & 0xC0) == 0x80;
}

// Where to cut a line longer than max_bytes: the best position in (0, max_bytes].
size_t cut_position(std::string_view line, size_t max_bytes) {
  const std::string_view head = line.substr(0, max_bytes + 1);  // The cut may fall on head[max].
  for (size_t i = head.size() - 1; i > 0; --i) {
    if (head[i] != ' ') continue;
    // Skip closing quotes and brackets back to a sentence end.
    size_t j = i;
    while (j > 0 && (head[j - 1] == '"' || head[j - 1] == '\'' || head[j - 1] == ')' ||
                     head[j - 1] == ']')) {
      --j;
    }
    if (j > 0 && (head[j - 1] == '.' || head[j - 1] == '!' || head[j - 1] == '?')) return i;
  }
  const size_t space = head.rfind(' ');
  if (space != std::string_view::npos && space > 0) return space;
  size_t cut = max_bytes;
  while (cut > 0 && is_continuation(static_cast<unsigned char>(line[cut]))) --cut;
  return cut > 0 ? cut : max_bytes;
}

}  // namespace

size_t find_invalid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    int length = 0;
    uint32_t code = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
      code = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      code = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      code = c & 0x07;
    } else {
      return i;  // A continuation byte without a lead, or an impossible lead (C0, C1, F5..FF).
    }
    if (i + length > n) return i;
    for (int k = 1; k < length; ++k) {
      if (!is_continuation(s[i + k])) return i;
      code = (code << 6) | (s[i + k] & 0x3F);
    }
    const bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
    const bool surrogate = code >= 0xD800 && code <= 0xDFFF;
    if (overlong || surrogate || code > 0x10FFFF) return i;
    i += length;
  }
  return std::string_view::npos;
}

std::string clean_text(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::string out;
  out.reserve(text.size());
  auto strip_trailing = [&out] {
    while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      strip_trailing();
      out += '\n';
    } else if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) {
      out += ' ';
    } else {
      out += c;
    }
  }
  strip_trailing();
  return out;
}

std::string collapse_blank_lines(std::string_view cleaned) {
  std::string out;
  out.reserve(cleaned.size());
  int pending_blank = 0;
  for_each_line(cleaned, [&](std::string_view line) {
    if (is_blank(line)) {
      ++pending_blank;
      return;
    }
    if (!out.empty()) out += pending_blank > 0 ? "\n\n" : "\n";
    pending_blank = 0;
    out.append(line);
  });
  return out;
}

std::string collapse_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::vector<std::string> split_sections(std::string_view cleaned, size_t min_bytes) {
  // First the raw sections between breaks, as views into `cleaned`.
  std::vector<std::string_view> raw;
  size_t section_start = 0;
  size_t blank_run_start = 0;
  int blank_run = 0;
  size_t pos = 0;
  for_each_line(cleaned, [&](std::string_view line) {
    const size_t line_start = pos;
    pos += line.size() + 1;
    if (is_blank(line)) {
      if (blank_run++ == 0) blank_run_start = line_start;
      return;
    }
    if (blank_run >= kSectionBreakBlankLines && blank_run_start > section_start) {
      raw.push_back(cleaned.substr(section_start, blank_run_start - section_start));
      section_start = line_start;
    }
    blank_run = 0;
  });
  if (section_start < cleaned.size()) raw.push_back(cleaned.substr(section_start));

  std::vector<std::string> sections;
  std::string current;
  for (std::string_view part : raw) {
    std::string collapsed = collapse_blank_lines(part);
    if (collapsed.empty()) continue;
    if (!current.empty()) current += "\n\n";
    current += collapsed;
    if (current.size() >= min_bytes) {
      sections.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) {
    if (sections.empty()) {
      sections.push_back(std::move(current));
    } else {
      sections.back() += "\n\n" + current;
    }
  }
  return sections;
}

void split_for_training(std::string_view document, size_t max_bytes,
                        const std::function<void(std::string_view)>& emit) {
  for_each_line(document, [&](std::string_view line) {
    while (line.size() > max_bytes) {
      const size_t cut = cut_position(line, max_bytes);
      std::string_view piece = line.substr(0, cut);
      if (!is_blank(piece)) emit(piece);
      line.remove_prefix(cut);
    }
    if (!is_blank(line)) emit(line);
  });
}

}  // namespace journey
