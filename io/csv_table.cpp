#include "io/csv_table.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "common/error.h"

namespace journey {
namespace {

std::string trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  const size_t end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

// Splits one CSV record; throws with `where` on an unterminated quote.
std::vector<std::string> split_record(const std::string& line, const std::string& where) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(trim(field));
      field.clear();
    } else {
      field += c;
    }
  }
  if (quoted) throw DataError(where + ": unterminated quoted field");
  fields.push_back(trim(field));
  return fields;
}

// What a file that is not text is, from its first bytes ("" when it may be a CSV file): the
// files a sweep directory holds beside results.csv are the likely mistakes.
std::string binary_or_structured_kind(std::istream& in) {
  char start[8] = {};
  in.read(start, sizeof start);
  const std::string head(start, static_cast<size_t>(in.gcount()));
  in.clear();
  in.seekg(0);
  if (head == std::string("\x89HDF\r\n\x1a\n", 8)) return "an HDF5 file";
  const size_t first = head.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && head[first] == '{') return "JSON";
  if (head.find('\0') != std::string::npos) return "a binary file";
  return "";
}

}  // namespace

std::string CsvRow::where(const std::string& column) const {
  return header_->file + " line " + std::to_string(line_) + ", column '" + column + "'";
}

std::optional<std::string> CsvRow::text(const std::string& column) const {
  auto it = header_->columns.find(column);
  if (it == header_->columns.end()) return std::nullopt;
  return fields_[it->second];
}

std::optional<double> CsvRow::number(const std::string& column, bool required) const {
  std::optional<std::string> value = text(column);
  if (!value) return std::nullopt;
  if (value->empty()) {
    if (!required) return std::nullopt;
    throw DataError(where(column) + ": empty; expected a number");
  }
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(value->c_str(), &end);
  if (end == value->c_str() || *end != '\0') {
    throw DataError(where(column) + ": '" + *value + "' is not a number");
  }
  if (std::isnan(x)) throw DataError(where(column) + ": NaN; expected a finite number");
  if (!std::isfinite(x) || errno == ERANGE) {
    throw DataError(where(column) + ": '" + *value + "' is not a finite number");
  }
  return x;
}

double CsvRow::positive(const std::string& column) const {
  const std::optional<double> x = number(column, true);
  if (!x) throw DataError(header_->file + ": missing column '" + column + "'");
  if (*x <= 0) {
    throw DataError(where(column) + ": " + text(column).value() +
                    " is not positive; expected a number > 0");
  }
  return *x;
}

bool CsvTable::has(const std::string& column) const {
  return std::find(names.begin(), names.end(), column) != names.end();
}

CsvTable read_csv_table(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DataError("cannot read " + file + ": " + std::strerror(errno));
  const std::string kind = binary_or_structured_kind(in);
  if (!kind.empty()) {
    throw DataError(file + " is " + kind +
                    ", not a CSV table (expected a header row of column "
                    "names, as in results.csv)");
  }
  CsvTable table;
  table.file = file;
  auto header = std::make_shared<CsvHeader>();
  header->file = file;

  std::string line;
  int line_number = 0;
  while (table.names.empty() && std::getline(in, line)) {
    ++line_number;
    if (!trim(line).empty()) {
      table.names = split_record(line, file + " line " + std::to_string(line_number));
    }
  }
  if (table.names.empty()) throw DataError(file + ": empty file; expected a header row");
  table.header_line = line_number;
  for (size_t i = 0; i < table.names.size(); ++i) {
    if (!header->columns.emplace(table.names[i], i).second) {
      throw DataError(file + " line " + std::to_string(line_number) + ": column '" +
                      table.names[i] + "' appears twice");
    }
  }

  while (std::getline(in, line)) {
    ++line_number;
    if (trim(line).empty()) continue;
    const int record_line = line_number;
    // A quoted field may hold a newline: the record goes on while a quote is open.
    std::string next;
    while (std::count(line.begin(), line.end(), '"') % 2 == 1 && std::getline(in, next)) {
      ++line_number;
      line += "\n" + next;
    }
    const std::string where = file + " line " + std::to_string(record_line);
    std::vector<std::string> fields = split_record(line, where);
    if (fields.size() != table.names.size()) {
      throw DataError(where + ": " + std::to_string(fields.size()) + " fields; the header has " +
                      std::to_string(table.names.size()));
    }
    table.rows.emplace_back(header, record_line, std::move(fields));
  }
  if (in.bad()) throw DataError("cannot read " + file + ": read error");
  return table;
}

}  // namespace journey
