// Draws the report's figures with gnuplot (Debian gnuplot-nox): one gnuplot process per
// figure writes it twice, as SVG (inlined in the HTML) and as PNG (pngcairo).
//
// A Figure is a gnuplot script body: everything after the terminal and output settings,
// with its data inline as datablocks ($name << EOD ... EOD), so the script alone
// reproduces the figure. render_figure() writes <name>.gp into a work directory, runs
// gnuplot there and returns the SVG ready to inline: the XML prologue removed and every
// id (gnuplot's "gnuplot_canvas", "gpPt0"..., "textbox"...) and every reference to one
// (href="#...", url(#...)) prefixed with the figure's name, so several inline SVGs never
// share an id; an id that repeats within one SVG (gnuplot numbers the plots of each
// multiplot panel from 1) gets a "-2", "-3"... suffix, references keeping the first. The PNG is
// written into png_dir as <name>.png, atomically.
//
// Errors: DataError when gnuplot is not installed (naming the Debian package), when it
// fails (its exit status and the last lines it printed), or when an output is missing.
#pragma once

#include <string>

namespace journey {

struct Figure {
  std::string name;               // File stem and SVG id prefix: letters, digits, '_' or '-'.
  std::string title;              // Heading shown above the figure.
  std::string caption;            // What it shows and how to read it (plain text).
  int width = 960, height = 480;  // Pixels, both outputs.
  std::string script;             // The gnuplot body (starts with `reset` implicitly).
};

struct RenderedFigure {
  std::string svg;       // Inline-ready <svg>...</svg>.
  std::string png_path;  // png_dir/<name>.png
};

// How to get the figures when gnuplot is not on PATH, for messages: without it the report
// still writes every table and says which figures it could not draw (report.h).
extern const char* const kGnuplotMissing;

RenderedFigure render_figure(const Figure& figure, const std::string& work_dir,
                             const std::string& png_dir);

// The prologue-free SVG with every id and id reference prefixed by `prefix` + "-", repeated
// ids made unique as above.
std::string scope_svg_ids(const std::string& svg, const std::string& prefix);

// A gnuplot string literal: single-quoted, so that gnuplot substitutes nothing inside it
// (no backquoted commands, no macros), with ' doubled and control characters (a newline
// would end the command) dropped.
std::string gnuplot_quote(const std::string& text);

}  // namespace journey
