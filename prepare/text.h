// Text clean-up and splitting rules shared by every corpus format. Pure string functions.
//
// A document's text goes through clean_text() and then collapse_blank_lines() (plain-text
// files are first cut into sections by split_sections(), which collapses each section).
// The tokenizer's training sentences come from split_for_training(). docs/data-format.md
// states these rules for users; the numbers live here.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace journey {

// Byte offset of the first byte that breaks UTF-8 (bad lead or continuation byte, overlong
// form, surrogate, code point above U+10FFFF, or a NUL byte, which text never holds), or
// std::string_view::npos when `text` is clean UTF-8.
size_t find_invalid_utf8(std::string_view text);

// Drops a leading byte-order mark, turns CR LF and lone CR into LF, replaces other control
// characters (C0 except tab and LF, and DEL) by a space and strips trailing spaces and tabs
// from every line. Keeps everything else, including indentation and blank lines.
std::string clean_text(std::string_view text);

// Keeps at most one blank line between paragraphs and drops blank lines at both ends.
std::string collapse_blank_lines(std::string_view cleaned);

// Replaces every run of whitespace by one space and trims both ends (for texts whose line
// breaks were already flattened into runs of spaces).
std::string collapse_spaces(std::string_view text);

// Blank lines in a row that mark a section break (chapter, story, book of the Bible) in
// Project Gutenberg style plain text.
constexpr int kSectionBreakBlankLines = 3;
// A section shorter than this joins the next one (or, at the end, the previous one), so
// title pages and short poems do not become documents of their own.
constexpr size_t kMinSectionBytes = 16 * 1024;

// Splits cleaned text into sections at runs of kSectionBreakBlankLines or more blank lines,
// merging sections shorter than `min_bytes`; each section then goes through
// collapse_blank_lines(). Empty sections are dropped, so blank text gives no sections.
std::vector<std::string> split_sections(std::string_view cleaned,
                                        size_t min_bytes = kMinSectionBytes);

// SentencePiece's trainer silently skips sentences longer than 4192 bytes; training lines are
// kept under this.
constexpr size_t kMaxTrainingLineBytes = 4000;

// Calls `emit` for each training sentence of a document: its non-blank lines, with a line
// longer than `max_bytes` cut before the space that follows a sentence end (. ! ? optionally
// followed by a closing quote or bracket), else before the last space, else at the last UTF-8
// character boundary that fits. Cuts keep the space at the start of the next piece, as the
// word appears inside running text.
void split_for_training(std::string_view document, size_t max_bytes,
                        const std::function<void(std::string_view)>& emit);

}  // namespace journey
