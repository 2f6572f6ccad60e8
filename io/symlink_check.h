// Refusing symbolic links inside the directories Journey writes.
//
// A sweep or run directory is Journey's own: it writes, renames and removes files in
// cells/<id>/, checkpoints/ and figures/. A symbolic link there (made by hand, or by a tool
// that "moved" a directory) would make those writes and removals land elsewhere, replacing
// files behind the link. So the commands that write a directory check it first and refuse any
// link below it: `journey sweep` and `journey train` at start, the coordinator each cell
// before it starts, `journey report` its figures directory. The directory itself may be a
// link (a scratch path linked from home is common); only what is below it may not.
#pragma once

#include <string>

namespace journey {

// Throws UsageError naming the first symbolic link (and where it points) that is `path`, one
// of the directories between `root` and `path`, or anything below `path` (not following any
// link); `root` itself may be one. `path` is `root` or lies under it, and need not exist.
// `what` names the command for the message.
void refuse_symlinks_under(const std::string& root, const std::string& path,
                           const std::string& what);

}  // namespace journey
