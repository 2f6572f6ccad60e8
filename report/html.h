// Small HTML builders for the report: escaping and tables. The report is one
// self-contained page (no external resources), so everything it shows passes through
// html_escape() or is markup built here. No errors.
#pragma once

#include <string>
#include <vector>

namespace journey {

// &, <, >, " and ' as entities.
std::string html_escape(const std::string& text);

// A <table> with a header row, in a <div class="table-wrap"> (which scrolls sideways when
// the table is wider than the page); cells are plain text (escaped here). A row may carry a
// CSS class (e.g. "failed") to mark it.
class HtmlTable {
 public:
  explicit HtmlTable(std::vector<std::string> header, std::string css_class = "");
  void add_row(std::vector<std::string> cells, std::string row_class = "");
  bool empty() const { return rows_.empty(); }
  std::string html() const;

 private:
  std::vector<std::string> header_;
  std::string css_class_;
  std::vector<std::pair<std::string, std::vector<std::string>>> rows_;  // (class, cells)
};

}  // namespace journey
