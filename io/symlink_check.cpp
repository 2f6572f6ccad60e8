#include "io/symlink_check.h"

#include <filesystem>
#include <system_error>

#include "common/error.h"

namespace journey {

void refuse_symlinks_below(const std::string& dir, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  // The iterator does not follow directory links (no follow_directory_symlink option), so a
  // link is seen as an entry and never entered.
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;  // An entry that vanished meanwhile is no link.
    if (!it->is_symlink(entry_ec)) continue;
    std::error_code target_ec;
    const fs::path target = fs::read_symlink(it->path(), target_ec);
    throw UsageError(what + " refuses " + it->path().string() + ": it is a symbolic link (to " +
                     (target_ec ? std::string("?") : target.string()) +
                     "), and files written or removed through it would land outside " + dir +
                     "; replace the link with what it points to (mv), or remove it");
  }
  if (ec) throw DataError("cannot read " + dir + " to check it for links: " + ec.message());
}

}  // namespace journey
