#include "worker/progress_reporter.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/duration_text.h"
#include "common/error.h"

namespace journey {

ProgressReporter::ProgressReporter(std::string cell_id, std::string out_dir,
                                   const std::string& log_path, bool print, int64_t total_steps,
                                   int64_t log_every)
    : cell_id_(std::move(cell_id)),
      out_dir_(std::move(out_dir)),
      print_(print),
      total_steps_(total_steps),
      log_every_(log_every) {
  if (print_ && !log_path.empty()) {
    // Never through a symbolic link: one planted there would make the run overwrite
    // whatever it points to.
    const int fd =
        open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw DataError("cannot append to " + log_path + ": " +
                      (errno == ELOOP ? std::string("it is a symbolic link, which Journey does not "
                                                    "write through")
                                      : std::string(std::strerror(errno))));
    }
    log_file_.reset(fdopen(fd, "a"));
    if (!log_file_) {
      close(fd);
      throw DataError("cannot append to " + log_path + ": " + std::strerror(errno));
    }
  }
}

void ProgressReporter::after_step(const RunProgress& p) {
  if (p.step % log_every_ != 0 && p.step != total_steps_) return;
  write_run_progress(out_dir_, p);
  if (!print_) return;
  std::FILE* out = log_file_ ? log_file_.get() : stdout;
  std::fprintf(out,
               "%s step %lld/%lld | loss %.4f | lr %.2e | density %.3f | %.1fk tok/s | "
               "MFU %.0f%% | ETA %s\n",
               cell_id_.c_str(), static_cast<long long>(p.step),
               static_cast<long long>(total_steps_), p.loss, p.lr, p.density, p.tokens_per_s / 1000,
               100 * p.mfu, duration_text(p.eta_s).c_str());
  std::fflush(out);
}

}  // namespace journey
