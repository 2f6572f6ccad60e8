// A small CSV file read whole, columns found by name: results.csv and the tables `journey fit`
// takes (docs/results-format.md).
//
// Fields may be quoted ("..." with "" for a quote, newlines allowed inside); fields are
// trimmed of surrounding blanks; blank lines are skipped. The first non-blank line is the
// header.
//
// Errors: DataError naming the file and, where there is one, the line and column: an
// unreadable or empty file, a column named twice, an unterminated quote, a row with the wrong
// number of fields, and (CsvRow) a field that is not the number asked for.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace journey {

// What every row of one file shares: the file's name and its columns by name.
struct CsvHeader {
  std::string file;
  std::map<std::string, size_t> columns;
};

class CsvRow {
 public:
  CsvRow(std::shared_ptr<const CsvHeader> header, int line, std::vector<std::string> fields)
      : header_(std::move(header)), line_(line), fields_(std::move(fields)) {}

  int line() const { return line_; }
  // "FILE line N, column 'NAME'", for messages.
  std::string where(const std::string& column) const;
  // The field, or nullopt when the file has no such column.
  std::optional<std::string> text(const std::string& column) const;
  // A finite number, or nullopt for an absent column or (when not `required`) an empty field.
  std::optional<double> number(const std::string& column, bool required) const;
  // A number > 0 from a column that must be there and filled.
  double positive(const std::string& column) const;

 private:
  std::shared_ptr<const CsvHeader> header_;
  int line_;
  std::vector<std::string> fields_;
};

struct CsvTable {
  std::string file;
  int header_line = 0;
  std::vector<std::string> names;  // The header's column names, in file order.
  std::vector<CsvRow> rows;

  bool has(const std::string& column) const;
};

CsvTable read_csv_table(const std::string& file);

}  // namespace journey
