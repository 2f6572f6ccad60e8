#include "report/html.h"

namespace journey {

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

HtmlTable::HtmlTable(std::vector<std::string> header, std::string css_class)
    : header_(std::move(header)), css_class_(std::move(css_class)) {}

void HtmlTable::add_row(std::vector<std::string> cells, std::string row_class) {
  rows_.emplace_back(std::move(row_class), std::move(cells));
}

std::string HtmlTable::html() const {
  std::string out = "<div class=\"table-wrap\">";
  out += css_class_.empty() ? "<table>\n" : "<table class=\"" + css_class_ + "\">\n";
  out += "<thead><tr>";
  for (const std::string& h : header_) out += "<th>" + html_escape(h) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& [row_class, cells] : rows_) {
    out += row_class.empty() ? "<tr>" : "<tr class=\"" + row_class + "\">";
    for (const std::string& c : cells) out += "<td>" + html_escape(c) + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table></div>\n";
}

}  // namespace journey
