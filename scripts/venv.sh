#!/usr/bin/env bash
# A Python virtual environment with pinned packages, made once and remade only when the
# requirements file changes (its hash is kept in the venv). Idempotent: seconds when current.
#   scripts/venv.sh DIR REQUIREMENTS
set -euo pipefail
dir=$1
requirements=$2
stamp=$dir/.journey-requirements
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ -x "$dir/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then exit 0; fi
echo "setup: installing $(grep -c '^[a-z]' "$requirements") Python packages into $dir"
[ -x "$dir/bin/python" ] || python3 -m venv "$dir"
"$dir/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
echo "$want" > "$stamp"
