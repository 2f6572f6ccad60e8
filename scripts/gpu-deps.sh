#!/usr/bin/env bash
# The Debian 12 packages Journey builds and runs against that a GPU machine (Ubuntu 24.04 with
# a CUDA PyTorch, but no package registry) may lack, downloaded as .debs into DIR for
# scripts/gpu-check.sh, which merges them into / on that machine (docs/gpu.md). Run here, on
# Debian 12 with apt; DIR (default .cache/gpu-debs, ignored by git) is then carried over.
#
#   scripts/gpu-deps.sh [--with-mpi] [DIR]
#
# --with-mpi also carries Debian's Open MPI (group "mpi"), which gpu-check.sh installs only on
# a machine without an mpicc of its own; by default the machine's own Open MPI is used, since
# two MPIs side by side are a risk of their own.
#
# Writes DIR/*.deb and DIR/MANIFEST (group, package, version, file, bytes, sha256 of each .deb).
# The node has no apt to resolve dependencies, so every package's Depends must be in the list,
# provided by the node's own toolchain (node_has) or left out on purpose (omitted); the script
# checks that and stops otherwise.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

with_mpi=0
if [ "${1:-}" = "--with-mpi" ]; then with_mpi=1; shift; fi
case "${1:-}" in -*) echo "usage: scripts/gpu-deps.sh [--with-mpi] [DIR]" >&2; exit 2 ;; esac
dir=${1:-$root/.cache/gpu-debs}

# The package names below are Debian 12's (bookworm).
# shellcheck disable=SC1091
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$codename" != bookworm ]; then
  echo "gpu-deps: run this on Debian 12 (bookworm), not '${codename:-unknown}'" >&2
  exit 2
fi
for tool in apt-get dpkg-deb g++ sha256sum; do
  command -v "$tool" >/dev/null || { echo "gpu-deps: needs $tool" >&2; exit 2; }
done

packages=(
  # BLAS: libblas.so (FindBLAS, -lblas) from the reference BLAS, libblas.so.3 at run time
  # from OpenBLAS (the higher-priority alternative, as on the CPU build machines).
  libblas-dev libblas3 libopenblas0-openmp libgfortran5 libquadmath0 gcc-12-base libgomp1
  # HDF5 (serial): headers, h5cc (FindHDF5), libhdf5_serial, and what h5cc -show links
  # (-lcrypto -lcurl -lsz -lz) with libcurl's run-time dependencies.
  libhdf5-dev hdf5-helpers libhdf5-103-1 libhdf5-hl-100 libaec-dev libaec0 libsz2
  libcurl4-openssl-dev libcurl4 libbrotli1 libgssapi-krb5-2 libkrb5-3 libk5crypto3
  libkrb5support0 libcom-err2 libkeyutils1 libidn2-0 libunistring2 libldap-2.5-0 libsasl2-2
  libsasl2-modules-db libdb5.3 libnghttp2-14 libpsl5 librtmp1 libgnutls30 libnettle8
  libhogweed6 libgmp10 libp11-kit0 libffi8 libtasn1-6 libssh2-1 libzstd1
  # OpenSSL (libcrypto: dataset split hashes, checkpoint checksums), zlib.
  libssl-dev libssl3 zlib1g-dev zlib1g
  # Boost.Program_options 1.74: the library; its headers come from libboost1.74-dev as a
  # subset (the headers boost/program_options.hpp includes), made below.
  libboost-program-options1.74-dev libboost-program-options1.74.0
  # GoogleTest/GoogleMock (headers, static libraries, CMake packages).
  libgtest-dev libgmock-dev
  # SentencePiece (Debian's libsentencepiece0 carries its own protobuf-lite: no
  # libprotobuf-lite32), found with pkg-config.
  libsentencepiece-dev libsentencepiece0 pkgconf pkgconf-bin libpkgconf3
  # Header-only libraries, and ninja.
  libeigen3-dev liblbfgspp-dev nlohmann-json3-dev ninja-build
)
# Debian's Open MPI 4.1 for a machine without one (--with-mpi): what mpicc, mpirun and
# libmpi need on one node; no ssh (gpu-check.sh sets OMPI_MCA_plm_rsh_agent to empty).
mpi_packages=(
  openmpi-bin openmpi-common libopenmpi-dev libopenmpi3 libpmix2 libhwloc15
  libevent-core-2.1-7 libevent-pthreads-2.1-7 libfabric1 libucx0 libibverbs1 librdmacm1
  libnl-3-200 libnl-route-3-200 libpsm2-2 libpsm-infinipath1 libnuma1 libmunge2 libatomic1
  ibverbs-providers
)
# Depends the GPU machine's own toolchain and base system provide (GCC 13, glibc).
node_has=(libc6 libc-dev libc6-dev libgcc-s1 libstdc++6 libudev1 libuuid1)
# Depends left out on purpose (the node has no apt to enforce them).
omitted=(
  googletest            # sources only; libgtest-dev has the headers and libraries
  libboost1.74-dev      # replaced by the program_options header subset below
  libstdc++-12-dev      # libboost1.74-dev's; the node's g++ brings its own
  libhdf5-fortran-102 libhdf5-hl-fortran-100 libhdf5-cpp-103-1 libhdf5-hl-cpp-100
  libjpeg-dev           # HDF5's Fortran and C++ bindings and its JPEG filter: Journey uses C
  pkg-config            # transitional; pkgconf provides it
  # mpi group: Fortran, the development packages of Open MPI's dependencies, plug-ins and
  # ssh, none of which one node's C++ build and mpirun need.
  gfortran-12 gfortran-mod-15 libibverbs-dev libhwloc-dev libevent-dev libpmix-dev
  libjs-jquery libjs-jquery-ui libhwloc-plugins adduser openssh-client ssh-client
)
# The one Boost library Journey includes.
boost_po_version=1.74.0
boost_po_prefix=opt/journey/boost-$boost_po_version/include

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/base" "$work/mpi" "$work/boost"

download() {  # download DEST PACKAGE...
  local dest=$1; shift
  if ! (cd "$dest" && apt-get download -q "$@" >"$work/apt.log" 2>&1); then
    if [ "$(id -u)" -eq 0 ] && [ -z "${gpu_deps_updated:-}" ]; then
      echo "gpu-deps: apt-get download failed; running apt-get update once"
      gpu_deps_updated=1
      apt-get update -q >/dev/null
      download "$dest" "$@"
      return
    fi
    cat "$work/apt.log" >&2
    echo "gpu-deps: apt-get download failed (apt-get update first?)" >&2
    exit 1
  fi
}
echo "gpu-deps: downloading ${#packages[@]} packages"
download "$work/base" "${packages[@]}"
if ((with_mpi)); then
  echo "gpu-deps: downloading ${#mpi_packages[@]} Open MPI packages"
  download "$work/mpi" "${mpi_packages[@]}"
fi

# The Boost headers boost/program_options.hpp and boost/crc.hpp (run/tensorboard_events.cpp)
# include (under C++14 to C++20), from
# libboost1.74-dev (9 MiB .deb, 135 MiB unpacked) as one small package whose headers go to
# /$boost_po_prefix, away from any other Boost on the node, so that headers and library are
# the same version (gpu-check.sh points CMake at them).
download "$work/boost" libboost1.74-dev
boost_deb=$(echo "$work"/boost/libboost1.74-dev_*.deb)
boost_full_version=$(dpkg-deb -f "$boost_deb" Version)
dpkg-deb -x "$boost_deb" "$work/boost/x"
inc=$work/boost/x/usr/include
for std in c++14 c++17 gnu++17 c++20; do
  printf '#include <boost/program_options.hpp>\n#include <boost/crc.hpp>\n' |
    g++ -std=$std -I"$inc" -x c++ -M - | tr -s '\\ ' '\n' | grep "^$inc/boost/"
done | sed "s|^$inc/||" | sort -u > "$work/boost/headers"
pkg=$work/boost/pkg
mkdir -p "$pkg/DEBIAN" "$pkg/$boost_po_prefix"
(cd "$inc" && xargs cp --parents -t "$pkg/$boost_po_prefix" < "$work/boost/headers")
cp "$work/boost/x/usr/share/doc/libboost1.74-dev/copyright" "$pkg/${boost_po_prefix%/include}/"
cat > "$pkg/DEBIAN/control" <<EOF
Package: journey-boost-program-options-headers
Version: $boost_full_version
Architecture: all
Maintainer: Journey <journey@localhost>
Description: Boost $boost_po_version headers that boost/program_options.hpp includes
 $(wc -l < "$work/boost/headers") headers from libboost1.74-dev, installed under
 /$boost_po_prefix for scripts/gpu-check.sh.
EOF
dpkg-deb --root-owner-group -Zxz --build "$pkg" \
  "$work/base/journey-boost-program-options-headers_${boost_full_version}_all.deb" >/dev/null

# Every Depends must be carried, on the node, or left out on purpose.
declare -A provided=()
for name in "${node_has[@]}" "${omitted[@]}"; do provided[$name]=1; done
for deb in "$work"/base/*.deb "$work"/mpi/*.deb; do
  [ -e "$deb" ] || continue
  provided[$(dpkg-deb -f "$deb" Package)]=1
  IFS=, read -ra provides <<<"$(dpkg-deb -f "$deb" Provides)"
  for p in "${provides[@]}"; do p=${p%%(*}; p=${p// /}; [ -z "$p" ] || provided[$p]=1; done
done
missing=()
for deb in "$work"/base/*.deb "$work"/mpi/*.deb; do
  [ -e "$deb" ] || continue
  IFS=, read -ra groups <<<"$(dpkg-deb -f "$deb" Pre-Depends Depends | sed 's/^[A-Za-z-]*: //' |
                              paste -sd, -)"
  for group in "${groups[@]}"; do
    ok=0
    IFS='|' read -ra alternatives <<<"$group"
    for a in "${alternatives[@]}"; do
      a=${a%%(*}; a=${a// /}; a=${a%%:*}
      if [ -z "$a" ] || [ -n "${provided[$a]:-}" ]; then ok=1; break; fi
    done
    ((ok)) || missing+=("$(dpkg-deb -f "$deb" Package): ${group# }")
  done
done
if ((${#missing[@]})); then
  printf 'gpu-deps: unmet dependency  %s\n' "${missing[@]}" >&2
  echo "gpu-deps: add these to packages (or to node_has/omitted, with a reason)" >&2
  exit 1
fi

# Replace DIR's packages with the new set.
mkdir -p "$dir"
rm -f "$dir"/*.deb "$dir"/MANIFEST
{
  echo "# Journey GPU-machine packages (scripts/gpu-deps.sh, $(date -u +%Y-%m-%d), Debian 12)"
  echo "# group package version file bytes sha256"
  for group in base mpi; do
    for deb in "$work/$group"/*.deb; do
      [ -e "$deb" ] || continue
      cp "$deb" "$dir/"
      file=$(basename "$deb")
      echo "$group $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) $file" \
           "$(stat -c %s "$deb") $(sha256sum "$deb" | cut -d' ' -f1)"
    done
  done
} > "$dir/MANIFEST"
count=$(grep -vc '^#' "$dir/MANIFEST")
bytes=$(awk '!/^#/ {s += $5} END {print s}' "$dir/MANIFEST")
echo "gpu-deps: $count packages in $dir: $(awk -v b="$bytes" 'BEGIN {printf "%.1f MiB", b / 1048576}')" \
     "($(wc -l < "$work/boost/headers") Boost headers in" \
     "journey-boost-program-options-headers; MPI: $( ((with_mpi)) && echo carried || echo "the node's own"))"
