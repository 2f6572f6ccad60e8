#!/usr/bin/env python3
"""Header hygiene that one standard library's transitive includes can hide from another.

GCC 13's libstdc++ no longer pulls <cstdint> in through <string> and friends, so a file that
used uint32_t without including <cstdint> built on GCC 12 and broke on a GPU node's GCC 13.
This check fails for every project source (.h, .cpp) that names a fixed-width integer type
(int8_t ... uint64_t, or their std:: forms) without <cstdint> (or <stdint.h>, or a LibTorch
header, which guarantees it) reachable through its own #include lines and those of the
project headers it includes: what the standard library's headers include is not counted.

  check-includes.py ROOT      prints each offending file and exits 1, or exits 0
"""
import os
import re
import sys

SKIPPED = re.compile(r"^(\.|build|results$|runs$|demo-out$)")  # Hidden, build and output dirs.
USES = re.compile(r"\b(?:std::)?u?int(?:8|16|32|64)_t\b")
PROVIDES = re.compile(r'#include\s*[<"](?:cstdint|stdint\.h|ATen/[^>"]+|torch/[^>"]+|c10/[^>"]+)[>"]')
PROJECT = re.compile(r'#include\s*"([^"]+)"')
COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)


def provides(root, path, seen):
    """Whether <cstdint> is reachable from `path` through project includes."""
    if path in seen:
        return False
    seen.add(path)
    text = COMMENT.sub("", open(path, encoding="utf-8").read())
    if PROVIDES.search(text):
        return True
    for header in PROJECT.findall(text):
        candidate = os.path.join(root, header)
        if os.path.isfile(candidate) and provides(root, candidate, seen):
            return True
    return False


def main():
    root = sys.argv[1]
    bad = []
    folders = sorted(d for d in os.listdir(root)
                     if os.path.isdir(os.path.join(root, d)) and not SKIPPED.match(d))
    for folder in folders:
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                if not name.endswith((".h", ".cpp")):
                    continue
                path = os.path.join(dirpath, name)
                text = COMMENT.sub("", open(path, encoding="utf-8").read())
                if USES.search(text) and not provides(root, path, set()):
                    bad.append(os.path.relpath(path, root))
    for path in bad:
        print("%s: uses a fixed-width integer type without #include <cstdint>" % path)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
