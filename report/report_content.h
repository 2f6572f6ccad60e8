// The report's content, built once and rendered twice: to the HTML page (report.html) and
// to plain text (report.txt). report/report.cpp builds a ReportContent section by section
// (figures drawn, fits read, plans computed); render_html() and render_text() only lay it
// out, so both renderings carry the same numbers.
//
// A section is a title and a list of blocks in page order: paragraphs, notes (yellow),
// warnings (red), sub-headings, tables, figure references and verdicts. A verdict is one box
// that collects every note about one subject (a law, the plan from a law): flagged subjects
// (a degenerate or unreliable fit) are drawn red and say why. A table that rests on a
// flagged subject carries `flagged_why`: the HTML greys it out (class "flagged") under that
// sentence, the text prints the sentence and marks the rows with "~". No errors.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace journey {

struct ContentTable {
  ContentTable() = default;
  explicit ContentTable(std::vector<std::string> header) : header(std::move(header)) {}

  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row_classes;  // Per row: "", "failed", "not-done" or "best".
  // Non-empty: the table is shown greyed out under this sentence (why not to trust it).
  std::string flagged_why;

  void add_row(std::vector<std::string> cells, std::string row_class = "");
  bool empty() const { return rows.empty(); }
};

struct FigureRef {
  std::string name, title, caption;
  std::string png_link;  // Relative to the page.
  std::string svg;       // The inline SVG, for the HTML only.
};

// One box about one subject, holding all its notes.
struct Verdict {
  std::string subject;   // e.g. "chinchilla N=avg"
  bool flagged = false;  // Do not rely on the subject.
  std::string summary;   // One sentence: what the notes mean.
  std::vector<std::string> notes;
};

struct ContentBlock {
  enum class Kind { kParagraph, kNote, kWarning, kHeading, kTable, kFigure, kVerdict, kPre };
  Kind kind = Kind::kParagraph;
  std::string text;  // Paragraph, note, warning, heading or preformatted text.
  ContentTable table;
  FigureRef figure;
  Verdict verdict;
};

struct ContentSection {
  std::string id, title;
  std::vector<ContentBlock> blocks;

  void paragraph(const std::string& text) { add(ContentBlock::Kind::kParagraph, text); }
  void note(const std::string& text) { add(ContentBlock::Kind::kNote, text); }
  void warning(const std::string& text) { add(ContentBlock::Kind::kWarning, text); }
  void heading(const std::string& text) { add(ContentBlock::Kind::kHeading, text); }
  void pre(const std::string& text) { add(ContentBlock::Kind::kPre, text); }
  void table(ContentTable table);
  void figure(FigureRef figure);
  void verdict(Verdict verdict);

 private:
  void add(ContentBlock::Kind kind, const std::string& text);
};

struct ReportContent {
  std::string title, subtitle;
  std::vector<std::string> notes;  // Above every section (e.g. "no figures: no gnuplot").
  std::vector<ContentSection> sections;

  ContentSection& section(const std::string& id, const std::string& title);
  int figure_count() const;
};

// The self-contained page: style, navigation, sections, inline SVGs, and the small script
// that records in body[data-figures-ok] and body[data-smallest-legend-px] what the browser
// laid out (docs/report.md).
std::string render_html(const ReportContent& content);

// The same content as text: paragraphs wrapped at 100 columns, tables with aligned columns,
// figures by title, caption and PNG, verdicts as marked lists. Row marks: "!" not done,
// "*" best, "~" greyed out.
std::string render_text(const ReportContent& content);

}  // namespace journey
