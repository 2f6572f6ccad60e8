#include "report/gnuplot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "common/error.h"
#include "io/atomic_file.h"
#include "io/whole_file.h"

extern char** environ;

namespace fs = std::filesystem;

namespace journey {
namespace {

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out.flush()) throw DataError("cannot write " + path.string() + ": " + std::strerror(errno));
}

// The last `n` lines of a log, for error messages.
std::string tail_lines(const std::string& text, int n) {
  size_t at = text.size();
  while (n-- > 0 && at > 0) {
    at = text.rfind('\n', at - 1);
    if (at == std::string::npos) return text;
  }
  return text.substr(at + 1);
}

// Runs `gnuplot script` in `dir` with its output in `log`; returns its wait status.
int run_gnuplot(const fs::path& dir, const std::string& script, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::string program = "gnuplot";
  char* argv[] = {program.data(), const_cast<char*>(script.c_str()), nullptr};
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error == ENOENT) throw DataError(kGnuplotMissing);
  if (error != 0) throw DataError(std::string("cannot start gnuplot: ") + std::strerror(error));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      throw DataError(std::string("waiting for gnuplot: ") + std::strerror(errno));
  }
  return status;
}

}  // namespace

std::string gnuplot_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

std::string scope_svg_ids(const std::string& svg, const std::string& prefix) {
  const size_t start = svg.find("<svg");
  const std::string body = start == std::string::npos ? svg : svg.substr(start);
  // Ids defined here; references to anything else (none expected) stay as they are.
  static const std::regex id_re(R"((\s)id=(["'])([^"']*)\2)");
  std::set<std::string> ids;
  for (auto it = std::sregex_iterator(body.begin(), body.end(), id_re);
       it != std::sregex_iterator(); ++it) {
    ids.insert((*it)[3].str());
  }
  static const std::regex token_re(
      R"((\s)id=(["'])([^"']*)\2|(href=)(["'])#([^"']*)\5|url\(#([^)]*)\))");
  std::map<std::string, int> seen;  // gnuplot numbers plots per multiplot panel, so ids repeat.
  std::string out;
  auto last = body.cbegin();
  for (auto it = std::sregex_iterator(body.begin(), body.end(), token_re);
       it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    out.append(last, m[0].first);
    last = m[0].second;
    if (m[3].matched) {
      const int n = ++seen[m[3].str()];
      out += m[1].str() + "id=" + m[2].str() + prefix + "-" + m[3].str() +
             (n > 1 ? "-" + std::to_string(n) : "") + m[2].str();
    } else if (m[6].matched) {
      const std::string target = m[6].str();
      out += "href=" + m[5].str() + "#" + (ids.count(target) ? prefix + "-" : "") + target +
             m[5].str();
    } else {
      const std::string target = m[7].str();
      out += "url(#" + (ids.count(target) ? prefix + "-" : "") + target + ")";
    }
  }
  out.append(last, body.cend());
  return out;
}

const char* const kGnuplotMissing =
    "gnuplot is not installed, so the figures were not drawn (every table is in the page); "
    "install gnuplot (Debian and Ubuntu package gnuplot-nox) and run `journey report DIR` "
    "again to add them";

RenderedFigure render_figure(const Figure& figure, const std::string& work_dir,
                             const std::string& png_dir) {
  const fs::path dir(work_dir);
  const std::string stem = figure.name;
  std::string svg_name = stem;  // gnuplot's terminal name must be an identifier.
  for (char& c : svg_name) {
    if (c == '-') c = '_';
  }
  write_file(dir / (stem + "-body.gp"), "reset\n" + figure.script + "\n");
  std::ostringstream wrapper;
  const std::string size = std::to_string(figure.width) + "," + std::to_string(figure.height);
  wrapper << "set encoding utf8\n"
          << "set terminal svg size " << size << " name " << gnuplot_quote(svg_name)
          << " enhanced font 'DejaVu Sans,12' background '#ffffff'\n"
          << "set output " << gnuplot_quote(stem + ".svg") << "\n"
          << "load " << gnuplot_quote(stem + "-body.gp") << "\n"
          << "unset output\n"
          << "set terminal pngcairo size " << size
          << " enhanced font 'DejaVu Sans,10' background '#ffffff'\n"
          << "set output " << gnuplot_quote(stem + ".png") << "\n"
          << "load " << gnuplot_quote(stem + "-body.gp") << "\n"
          << "unset output\n";
  write_file(dir / (stem + ".gp"), wrapper.str());

  const fs::path log = dir / (stem + ".log");
  const int status = run_gnuplot(dir, stem + ".gp", log);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string how = WIFEXITED(status)
                                ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                : "was killed by signal " + std::to_string(WTERMSIG(status));
    throw DataError("gnuplot " + how + " drawing figure " + stem + " (" +
                    (dir / (stem + ".gp")).string() + "):\n" +
                    tail_lines(read_file_or_empty(log.string()), 8));
  }
  RenderedFigure rendered;
  const std::string svg = read_file_or_empty((dir / (stem + ".svg")).string());
  const std::string png = read_file_or_empty((dir / (stem + ".png")).string());
  if (svg.find("<svg") == std::string::npos || png.size() < 8 ||
      png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
    throw DataError("gnuplot left no SVG or no PNG for figure " + stem + " in " + work_dir);
  }
  rendered.svg = scope_svg_ids(svg, svg_name);
  rendered.png_path = (fs::path(png_dir) / (stem + ".png")).string();
  write_file_atomically(rendered.png_path, png);
  return rendered;
}

}  // namespace journey
