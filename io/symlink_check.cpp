#include "io/symlink_check.h"

#include <filesystem>
#include <system_error>

#include "common/error.h"

namespace journey {

namespace {

[[noreturn]] void refuse(const std::filesystem::path& link, const std::string& root,
                         const std::string& what) {
  std::error_code ec;
  const std::filesystem::path target = std::filesystem::read_symlink(link, ec);
  throw UsageError(what + " refuses " + link.string() + ": it is a symbolic link (to " +
                   (ec ? std::string("?") : target.string()) +
                   "), and files written or removed through it would land outside " + root +
                   "; replace the link with what it points to (mv), or remove it");
}

}  // namespace

void refuse_symlinks_under(const std::string& root, const std::string& path,
                           const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // The directories from root down to path, each as itself (a trailing slash would follow it).
  fs::path at = fs::path(root).lexically_normal();
  if (at.has_filename() == false && at.has_parent_path()) at = at.parent_path();
  for (const fs::path& part : fs::path(path).lexically_normal().lexically_relative(at)) {
    if (part.empty() || part == ".") continue;
    at /= part;
    if (fs::is_symlink(at, ec)) refuse(at, root, what);
  }
  if (!fs::is_directory(at, ec)) return;
  // The iterator does not follow directory links (no follow_directory_symlink option), so a
  // link is seen as an entry and never entered.
  for (fs::recursive_directory_iterator it(at, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;  // An entry that vanished meanwhile is no link.
    if (it->is_symlink(entry_ec)) refuse(it->path(), root, what);
  }
  if (ec) throw DataError("cannot read " + path + " to check it for links: " + ec.message());
}

}  // namespace journey
