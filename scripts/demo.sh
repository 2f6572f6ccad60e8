#!/usr/bin/env bash
# The README's main job: set up everything, then run the demo.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
build/journey schedule --config configs/demo.ini --prune.sparsity=0.8
