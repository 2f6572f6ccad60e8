// `journey report`: one self-contained HTML page about a sweep directory, the same content
// as text (report.txt beside the page), a PNG of each figure, and a short plain-text summary
// (docs/report.md). The content is built once (report/report_content.h) and rendered twice.
//
// The page holds, in order: the cells that did not finish (status and reason) and any
// problems reading the directory; 1 the journey (density against compute and step); 2 the
// loss curves; 3 the collapse (loss against N-bar and N_final with the fitted law); 4
// predicted against actual loss; 5 the schedule-grid heat maps (schedule sweeps only); 6
// sparse against dense at equal compute (both compute measures); 7 matched pairs; 8
// residuals; 9 the compute frontier (band over the runs' range, extrapolation dashed); 10
// the sparsity of each matrix; 11 the fit's tables, one verdict per law, and a plan for
// three budgets (greyed out when its law is flagged); 12 run metadata (version, machine,
// wall time, throughput, configs). Figures are drawn by gnuplot (report/gnuplot.h) and
// inlined as SVG; the page needs no network and no JavaScript (a tiny inline script only
// records, in body[data-figures-ok], how many figures the browser laid out with a non-zero
// size, for the headless-browser test).
//
// The fit comes from report/fit_summary.h: fit.json when it is current, else computed here
// and written (fit.json, fit.csv). Without enough done cells the law parts are replaced by
// a visible note. Cells that are not done are excluded from the fit and the law figures
// and marked where they appear (hollow end markers, hatched grid boxes, red table rows).
//
// Outputs are written atomically (io/atomic_file.h): each PNG to options.png_dir/<figure>.png
// as its figure is drawn, then the text, the HTML to options.html_path last, so a failure
// leaves the previous page in place.
//
// Several directories: their cells are one data set (a cell id in two of them with the same
// lr is refused), the fit is over their results.csv files together, in the directory of
// html_path (report/fit_summary.h), every figure is over all cells, and the run metadata lists
// each directory with its sweep.ini.
//
// The plan (section 11) uses the law `journey plan` uses by default: the one fit.json says was
// validated best (fit/fit_file.h read_fit_json(path, "")), greyed out when it is flagged.
//
// Errors: UsageError for several directories without html_path, an html_path not ending in
// .html, or, with several directories, one inside a results directory (the merged fit beside
// it would replace that directory's own). DataError for a directory that is neither a sweep
// nor a results directory, unreadable or malformed results, gnuplot missing or failing, or
// unwritable outputs.
#pragma once

#include <string>
#include <vector>

#include "fit/fit_report.h"

namespace journey {

struct ReportOptions {
  // The sweep directories: one, or several read as one data set (report/sweep_data.h
  // load_sweeps); with several, html_path is required and the fit is kept beside it.
  std::vector<std::string> dirs;
  std::string html_path;        // Default (one directory only): DIR/report.html.
  std::string png_dir;          // Default: DIR/figures, or figures/ beside html_path.
  FitReportOptions fit;         // Used when the fit is computed here.
  bool select_best_lr = false;  // Fit each size's best rate only (fit/lr_selection.h).
};

struct ReportResult {
  std::string html_path;
  std::string text_path;               // The same content as text: html_path with .txt.
  std::vector<std::string> figures;    // Figure names, in page order.
  std::vector<std::string> png_paths;  // One per figure.
  // Figures that could be drawn but were not because gnuplot is not installed.
  std::vector<std::string> undrawn;
  std::string summary;  // The plain-text summary.
};

ReportResult write_report(const ReportOptions& options);

}  // namespace journey
