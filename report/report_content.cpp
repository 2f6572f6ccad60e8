#include "report/report_content.h"

#include <algorithm>
#include <sstream>

#include "report/html.h"

namespace journey {

void ContentTable::add_row(std::vector<std::string> cells, std::string row_class) {
  rows.push_back(std::move(cells));
  row_classes.push_back(std::move(row_class));
}

void ContentSection::add(ContentBlock::Kind kind, const std::string& text) {
  ContentBlock block;
  block.kind = kind;
  block.text = text;
  blocks.push_back(std::move(block));
}

void ContentSection::table(ContentTable table) {
  ContentBlock block;
  block.kind = ContentBlock::Kind::kTable;
  block.table = std::move(table);
  blocks.push_back(std::move(block));
}

void ContentSection::figure(FigureRef figure) {
  ContentBlock block;
  block.kind = ContentBlock::Kind::kFigure;
  block.figure = std::move(figure);
  blocks.push_back(std::move(block));
}

void ContentSection::verdict(Verdict verdict) {
  ContentBlock block;
  block.kind = ContentBlock::Kind::kVerdict;
  block.verdict = std::move(verdict);
  blocks.push_back(std::move(block));
}

ContentSection& ReportContent::section(const std::string& id, const std::string& title) {
  sections.push_back({id, title, {}});
  return sections.back();
}

int ReportContent::figure_count() const {
  int n = 0;
  for (const ContentSection& s : sections) {
    for (const ContentBlock& b : s.blocks) n += b.kind == ContentBlock::Kind::kFigure;
  }
  return n;
}

namespace {

constexpr const char* kStyle =
    "body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 0 auto; max-width: 1260px;"
    " padding: 0 16px 40px; color: #222; line-height: 1.45; }\n"
    "h1 { margin-bottom: 4px; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 4px;"
    " margin-top: 36px; }\n"
    ".subtitle { color: #555; margin-top: 0; }\n"
    "nav a { margin-right: 14px; font-size: 0.9em; white-space: nowrap; }\n"
    "figure.plot { margin: 16px 0; }\n"
    "figure.plot svg { display: block; max-width: 100%; height: auto; }\n"
    "figcaption { font-size: 0.9em; color: #333; max-width: 1100px; }\n"
    ".table-wrap { overflow-x: auto; margin: 10px 0 18px; }\n"
    "table { border-collapse: collapse; font-size: 0.86em; }\n"
    "td:first-child { white-space: nowrap; }\n"
    "th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }\n"
    "th { background: #f2f2f2; }\n"
    "tr.failed td, tr.not-done td { background: #fde2e2; }\n"
    "tr.best td { background: #e3f4e1; }\n"
    ".note { background: #fff8dc; border-left: 4px solid #e6b800; padding: 6px 10px; }\n"
    ".warning { background: #fde2e2; border-left: 4px solid #c0392b; padding: 6px 10px;"
    " font-weight: bold; }\n"
    ".verdict { border-left: 4px solid #009E73; background: #eef8f3; padding: 6px 12px;"
    " margin: 10px 0; }\n"
    ".verdict.flagged { border-left-color: #c0392b; background: #fde2e2; }\n"
    ".verdict ul { margin: 4px 0 2px; padding-left: 22px; }\n"
    ".verdict p { margin: 0; }\n"
    ".flagged-why { color: #666; font-style: italic; margin-bottom: 2px; }\n"
    ".table-wrap.flagged { opacity: 0.5; filter: grayscale(1); }\n"
    "pre { background: #f7f7f7; padding: 8px; overflow-x: auto; font-size: 0.85em; }\n";

// Counts the figures the browser laid out with a non-zero size and some drawing in them,
// and finds the smallest legend text as displayed (font size times the figure's scale to
// the page width; gnuplot gives each titled plot a <title> holding the key entry's text),
// so that a browser test can check the legends are readable at the report's width.
constexpr const char* kCheck =
    "(function () {\n"
    "  var ok = 0, smallest = Infinity;\n"
    "  document.querySelectorAll('figure.plot').forEach(function (f) {\n"
    "    var svg = f.querySelector('svg');\n"
    "    if (!svg) return;\n"
    "    var box = svg.getBoundingClientRect();\n"
    "    if (box.width > 0 && box.height > 0 &&\n"
    "        svg.querySelectorAll('path, polyline, polygon, rect, use').length > 0) ok++;\n"
    "    var view = svg.viewBox.baseVal;\n"
    "    var scale = view && view.width > 0 ? box.width / view.width : 1;\n"
    "    svg.querySelectorAll('g > title').forEach(function (t) {\n"
    "      t.parentNode.querySelectorAll('text').forEach(function (text) {\n"
    "        if (text.textContent !== t.textContent) return;  // Not the key entry.\n"
    "        var px = parseFloat(getComputedStyle(text).fontSize) * scale;\n"
    "        if (px < smallest) smallest = px;\n"
    "      });\n"
    "    });\n"
    "  });\n"
    "  document.body.setAttribute('data-figures-ok', String(ok));\n"
    "  document.body.setAttribute('data-smallest-legend-px',\n"
    "                             isFinite(smallest) ? smallest.toFixed(1) : 'none');\n"
    "})();\n";

std::string p(const std::string& text, const std::string& css_class = "") {
  return (css_class.empty() ? "<p>" : "<p class=\"" + css_class + "\">") + html_escape(text) +
         "</p>\n";
}

std::string html_table(const ContentTable& t) {
  HtmlTable table(t.header);
  for (size_t i = 0; i < t.rows.size(); ++i) table.add_row(t.rows[i], t.row_classes[i]);
  std::string html = table.html();
  if (t.flagged_why.empty()) return html;
  const std::string wrap = "<div class=\"table-wrap\">";
  html.replace(0, wrap.size(), "<div class=\"table-wrap flagged\">");
  return p(t.flagged_why, "flagged-why") + html;
}

std::string html_block(const ContentBlock& b) {
  switch (b.kind) {
    case ContentBlock::Kind::kParagraph:
      return p(b.text);
    case ContentBlock::Kind::kNote:
      return p(b.text, "note");
    case ContentBlock::Kind::kWarning:
      return p(b.text, "warning");
    case ContentBlock::Kind::kHeading:
      return "<h3>" + html_escape(b.text) + "</h3>\n";
    case ContentBlock::Kind::kPre:
      return "<pre>" + html_escape(b.text) + "</pre>\n";
    case ContentBlock::Kind::kTable:
      return html_table(b.table);
    case ContentBlock::Kind::kFigure: {
      const FigureRef& f = b.figure;
      return "<figure class=\"plot\" id=\"" + f.name + "\">\n" + f.svg + "\n<figcaption><strong>" +
             html_escape(f.title) + ".</strong> " + html_escape(f.caption) + " <a href=\"" +
             html_escape(f.png_link) + "\">PNG</a></figcaption>\n</figure>\n";
    }
    case ContentBlock::Kind::kVerdict: {
      const Verdict& v = b.verdict;
      std::string html = std::string("<div class=\"verdict") + (v.flagged ? " flagged" : "") +
                         "\"><p><strong>" + html_escape(v.subject) + ":</strong> " +
                         html_escape(v.summary) + "</p>\n";
      if (!v.notes.empty()) {
        html += "<ul>\n";
        for (const std::string& n : v.notes) html += "<li>" + html_escape(n) + "</li>\n";
        html += "</ul>\n";
      }
      return html + "</div>\n";
    }
  }
  return "";
}

// Characters as displayed: UTF-8 continuation bytes do not count.
size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// `text` wrapped at `width` columns, each line starting with `indent` (the first with
// `first` instead).
std::string wrap(const std::string& text, const std::string& first, const std::string& indent,
                 size_t width = 100) {
  std::istringstream words(text);
  std::string word, out, line = first;
  bool empty_line = true;
  while (words >> word) {
    if (!empty_line && display_width(line) + 1 + display_width(word) > width) {
      out += line + "\n";
      line = indent;
      empty_line = true;
    }
    line += (empty_line ? "" : " ") + word;
    empty_line = false;
  }
  return out + line + "\n";
}

std::string text_table(const ContentTable& t) {
  std::vector<size_t> widths(t.header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i >= widths.size()) widths.push_back(0);
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  };
  measure(t.header);
  for (const auto& row : t.rows) measure(row);
  auto line = [&](const std::vector<std::string>& row, const std::string& mark) {
    std::string out = "  " + mark;
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out += std::string(widths[i] - display_width(row[i]) + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out;
  const bool flagged = !t.flagged_why.empty();
  if (flagged) out += wrap(t.flagged_why, "  ", "  ");
  out += line(t.header, "  ");
  size_t total = 0;
  for (size_t w : widths) total += w + 2;
  out += "  " + std::string("  ") + std::string(total > 2 ? total - 2 : 0, '-') + "\n";
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const std::string& c = t.row_classes[i];
    out += line(t.rows[i], flagged                            ? "~ "
                           : c == "failed" || c == "not-done" ? "! "
                           : c == "best"                      ? "* "
                                                              : "  ");
  }
  return out;
}

std::string text_block(const ContentBlock& b) {
  switch (b.kind) {
    case ContentBlock::Kind::kParagraph:
      return wrap(b.text, "", "");
    case ContentBlock::Kind::kNote:
      return wrap(b.text, "Note: ", "      ");
    case ContentBlock::Kind::kWarning:
      return wrap(b.text, "WARNING: ", "         ");
    case ContentBlock::Kind::kHeading:
      return "\n" + b.text + "\n" + std::string(display_width(b.text), '-') + "\n";
    case ContentBlock::Kind::kPre: {
      std::string out;
      std::istringstream lines(b.text);
      for (std::string l; std::getline(lines, l);) out += "  | " + l + "\n";
      return out;
    }
    case ContentBlock::Kind::kTable:
      return text_table(b.table);
    case ContentBlock::Kind::kFigure: {
      const FigureRef& f = b.figure;
      return wrap("Figure " + f.title + ". " + f.caption + " [" + f.png_link + "]", "", "  ");
    }
    case ContentBlock::Kind::kVerdict: {
      const Verdict& v = b.verdict;
      std::string out =
          wrap((v.flagged ? "[FLAGGED] " : "[ok] ") + v.subject + ": " + v.summary, "", "    ");
      for (const std::string& n : v.notes) out += wrap(n, "  - ", "    ");
      return out;
    }
  }
  return "";
}

}  // namespace

std::string render_html(const ReportContent& content) {
  std::string nav, body;
  for (const std::string& n : content.notes) body += p(n, "note");
  for (const ContentSection& s : content.sections) {
    nav += "<a href=\"#" + s.id + "\">" + html_escape(s.title) + "</a>\n";
    body += "<section id=\"" + s.id + "\">\n<h2>" + html_escape(s.title) + "</h2>\n";
    for (const ContentBlock& b : s.blocks) body += html_block(b);
    body += "</section>\n";
  }
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>" +
         html_escape(content.title) + "</title>\n<style>\n" + kStyle +
         "</style>\n"
         "</head>\n<body data-figures=\"" +
         std::to_string(content.figure_count()) + "\">\n<header><h1>" + html_escape(content.title) +
         "</h1>\n<p class=\"subtitle\">" + html_escape(content.subtitle) + "</p>\n<nav>\n" + nav +
         "</nav></header>\n<main>\n" + body + "</main>\n<script>\n" + kCheck +
         "</script>\n"
         "</body>\n</html>\n";
}

std::string render_text(const ReportContent& content) {
  std::string out = content.title + "\n" + std::string(display_width(content.title), '=') + "\n" +
                    content.subtitle + "\n";
  for (const std::string& n : content.notes) out += "\n" + wrap(n, "Note: ", "      ");
  for (const ContentSection& s : content.sections) {
    out += "\n\n" + s.title + "\n" + std::string(display_width(s.title), '=') + "\n";
    for (const ContentBlock& b : s.blocks) {
      out += b.kind == ContentBlock::Kind::kHeading ? "" : "\n";
      out += text_block(b);
    }
  }
  return out;
}

}  // namespace journey
