#!/usr/bin/env bash
# The Debian packages Journey builds against, downloaded here and unpacked into a prefix
# (default .cache/gpu-deps), for a GPU machine that has a CUDA PyTorch but no package
# registry: scripts/gpu-check.sh builds with them there. Run on a Debian 12 machine with apt.
#   scripts/gpu-deps.sh [PREFIX]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=${1:-$root/.cache/gpu-deps}
packages=(
  libboost-program-options1.74-dev libboost-program-options1.74.0 libboost1.74-dev
  libopenmpi-dev libopenmpi3 openmpi-bin openmpi-common libpmix2 libhwloc15 libevent-core-2.1-7
  libevent-pthreads-2.1-7 libfabric1 libucx0 libpsm2-2 libibverbs1 librdmacm1 libnl-3-200
  libnl-route-3-200
  libhdf5-dev libhdf5-103-1 libhdf5-hl-100 libsz2 libaec0 libcurl4 libcurl4-openssl-dev
  libgtest-dev libgmock-dev googletest
  libsentencepiece-dev libsentencepiece0 libprotobuf-lite32
  libeigen3-dev liblbfgspp-dev nlohmann-json3-dev zlib1g-dev libssl-dev
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "${packages[@]}")
mkdir -p "$prefix"
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$prefix"; done
echo "gpu-deps: ${#packages[@]} packages unpacked into $prefix ($(du -sh "$prefix" | cut -f1))"
