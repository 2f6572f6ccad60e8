#!/usr/bin/env bash
# The GPU checks, on a machine with an NVIDIA GPU and a CUDA PyTorch (the `device` tool's
# machine; docs/gpu.md). Builds Journey against that PyTorch's LibTorch (its cmake prefix, NCCL
# from its wheel) with the other libraries from the system, after merging in the Debian
# packages scripts/gpu-deps.sh downloaded (JOURNEY_GPU_DEBS, default .cache/gpu-debs: such a
# machine may have no package registry), then runs:
#   1. GPU against CPU on one batch: loss and gradients in float32 within 1e-4 relative
#      (WorkerTest.WorkerGpuMatchesTheCpuOnOneBatch);
#   2. the NCCL backend on one rank (journey_nccl_tests);
#   3. a sweep of 2 cells with train.device = cuda under mpirun;
#   4. the throughput of the paper's 58M model (512x6x8, 2048 tokens, 32000 vocabulary) in
#      bf16 and fp32: tokens/s and MFU against the measured matmul peak of each dtype;
#   5. bench/gpu_bench.sh (OUT and BUILD passed on).
# A failed step is reported and the later steps still run where they can; the summary at the
# end lists every step. Results go to $OUT/gpu-check.txt (OUT defaults to build-gpu), logs
# next to it. Record them in BENCHMARKS.md ("GPU"). Exit status 0 when no step failed.
#
#   scripts/gpu-check.sh                       everything above
#   scripts/gpu-check.sh --install-debs [ROOT] only merge the .debs into ROOT (default /)
#
# Environment: PYTHON (python3), JOURNEY_GPU_DEBS, JOURNEY_JOBS (ninja -j, 16),
# JOURNEY_GPU_MPI (auto: carry Debian's Open MPI only where there is no mpicc; system; debs),
# JOURNEY_GPU_STEP_TIMEOUT (s per step 1-4, 300), JOURNEY_GPU_BENCH_TIMEOUT (step 5, 420).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 2

debs=${JOURNEY_GPU_DEBS:-$root/.cache/gpu-debs}
multiarch=x86_64-linux-gnu
boost_po_include=/opt/journey/boost-1.74.0/include
boost_po_library=/usr/lib/$multiarch/libboost_program_options.so.1.74.0

# ---------------------------------------------------------------------------------------------
# Merging Debian 12 .debs into a root without a package manager's help: what dpkg would unpack
# (never overwriting a file the root already has, so the machine's own libraries win), the
# alternatives symlinks the packages' postinst scripts would make (update-alternatives
# --install, highest priority first, only where the link is missing), then ldconfig. Records
# what it did under ROOT/var/lib/journey/: gpu-debs.files lists what it added (for removal;
# appended to by each run), gpu-debs.kept the packages' files the root already had.

# The Open MPI packages (MANIFEST group "mpi", scripts/gpu-deps.sh --with-mpi) only go where
# there is no MPI already: two Open MPIs side by side are a risk of their own.
want_mpi_debs() {  # want_mpi_debs ROOT
  case "${JOURNEY_GPU_MPI:-auto}" in
    debs) return 0 ;;
    system) return 1 ;;
  esac
  if [ "$1" = / ]; then
    ! command -v mpicc >/dev/null && [ ! -e /usr/bin/mpicc ]
  else
    [ ! -e "$1/usr/bin/mpicc" ] && [ ! -L "$1/usr/bin/mpicc" ]
  fi
}

# The update-alternatives --install commands of a postinst, one line per link:
#   master PRIORITY LINK PATH NAME        slave PRIORITY LINK PATH NAME MASTER-PATH
# Commands with shell variables in them are left out (hdf5's MPI flavours, not ours).
alternatives_of() {  # alternatives_of POSTINST
  sed -e ':a' -e '/\\[[:space:]]*$/{N; s/\\[[:space:]]*\n/ /; ba' -e '}' "$1" |
    awk '/update-alternatives/ && /--install/ && !/\$/ {
           n = split($0, t, /[ \t]+/)
           for (i = 1; i <= n && t[i] != "--install"; i++) {}
           print "master", t[i + 4], t[i + 1], t[i + 3], t[i + 2]
           for (j = i + 5; j <= n; j++)
             if (t[j] == "--slave") {
               print "slave", t[i + 4], t[j + 1], t[j + 3], t[i + 2], t[i + 3]
               j += 3
             }
         }'
}

# A relative symlink LINK -> PATH under ROOT (both absolute paths as on the machine), so that
# it resolves the same inside a scratch root as on /.
root_link() {  # root_link ROOT LINK PATH
  local r=${1%/} dir
  mkdir -p "$r$(dirname "$2")"
  dir=$(realpath "$r$(dirname "$2")")
  ln -sfn "$(realpath -m -s --relative-to="$dir" "$(realpath -m "$r$(dirname "$3")")/$(basename "$3")")" \
    "$dir/$(basename "$2")"
}

install_debs() {  # install_debs DEBDIR [ROOT]: 0 merged (or already), 3 left alone, 1 failed
  local dir=$1 target=${2:-/}
  local manifest=$dir/MANIFEST
  if [ ! -f "$manifest" ]; then
    echo "install-debs: no $manifest (run scripts/gpu-deps.sh on Debian 12 first)"
    return 1
  fi
  target=$(realpath -m "$target")
  if [ "$target" = / ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "install-debs: not root: cannot merge the .debs into /"
      return 1
    fi
    # shellcheck disable=SC1091
    if [ "$(. /etc/os-release && echo "${ID:-}-${VERSION_ID:-}")" = debian-12 ]; then
      echo "install-debs: this is Debian 12: install the packages with apt (scripts/setup.sh)," \
           "not by merging .debs; leaving / alone"
      return 3
    fi
  elif [ ! -d "$target" ]; then
    echo "install-debs: no directory $target"
    return 1
  fi
  local state=$target/var/lib/journey
  if cmp -s "$manifest" "$state/gpu-debs.MANIFEST"; then
    echo "install-debs: these .debs are already merged into $target ($state/gpu-debs.MANIFEST)"
    return 0
  fi

  local groups=base
  if grep -q '^mpi ' "$manifest"; then
    local why="JOURNEY_GPU_MPI=${JOURNEY_GPU_MPI:-auto}"
    if want_mpi_debs "$target"; then
      groups="base mpi"
      [ "$why" != JOURNEY_GPU_MPI=auto ] || why="no mpicc in $target"
      echo "install-debs: adding Debian's Open MPI (group mpi: $why)"
    else
      [ "$why" != JOURNEY_GPU_MPI=auto ] || why="$target has an mpicc"
      echo "install-debs: leaving out Debian's Open MPI (group mpi: $why)"
    fi
  fi
  (cd "$dir" && awk '!/^#/ {print $6 "  " $4}' MANIFEST | sha256sum --quiet -c -) || {
    echo "install-debs: a .deb in $dir does not match its MANIFEST checksum"
    return 1
  }

  local work stage ctl
  work=$(mktemp -d)
  stage=$work/stage ctl=$work/control
  mkdir -p "$stage" "$ctl"
  local group package file count=0
  while read -r group package _ file _; do
    case "$group" in '#'*) continue ;; esac
    [[ " $groups " == *" $group "* ]] || continue
    if ! dpkg-deb -x "$dir/$file" "$stage" || ! dpkg-deb -e "$dir/$file" "$ctl/$package"; then
      echo "install-debs: cannot unpack $file"
      rm -rf "$work"
      return 1
    fi
    count=$((count + 1))
  done < "$manifest"
  rm -rf "$stage/usr/share/doc" "$stage/usr/share/man" "$stage/usr/share/lintian"

  # Files and symlinks the root lacks; the root's own directory symlinks (/lib -> usr/lib on
  # a merged-/usr system) are followed, as dpkg does.
  local rel added=0 kept=0
  : > "$work/add"
  : > "$work/kept"
  while IFS= read -r -d '' rel; do
    rel=${rel#./}
    if [ -e "$target/$rel" ] || [ -L "$target/$rel" ]; then
      echo "/$rel" >> "$work/kept"
      kept=$((kept + 1))
    else
      printf '%s\0' "$rel" >> "$work/add"
      added=$((added + 1))
    fi
  done < <(cd "$stage" && find . \( -type f -o -type l \) -print0)
  if ((added)); then
    (cd "$stage" && tar --null --no-recursion -T "$work/add" -cf -) |
      tar -C "$target" --keep-directory-symlink -xpf - || {
        echo "install-debs: copying into $target failed"
        rm -rf "$work"
        return 1
      }
  fi
  while IFS= read -r -d '' rel; do mkdir -p "$target/${rel#./}"; done \
    < <(cd "$stage" && find . -type d -empty -print0)
  echo "install-debs: $count packages: added $added files to $target, kept $kept it already had"

  # Alternatives: per link, the highest-priority candidate whose target one of these
  # packages ships; its slaves with it.
  local kind prio link path name f links=0
  for f in "$ctl"/*/postinst; do
    [ -e "$f" ] && alternatives_of "$f"
  done > "$work/alternatives"
  while read -r kind prio link path name; do
    [ "$kind" = master ] || continue
    [ -e "$stage$path" ] || [ -L "$stage$path" ] || continue
    # Only the first (highest-priority) shipped candidate per link.
    grep -qxF "$link" "$work/links-seen" 2>/dev/null && continue
    echo "$link" >> "$work/links-seen"
    if [ -e "$target$link" ]; then
      echo "install-debs: keeping $link -> $(readlink -f "$target$link" | sed "s|^${target%/}||")"
      continue
    fi
    root_link "$target" "$link" "$path"
    echo "install-debs: link $link -> $path ($name, priority $prio)"
    echo "$link" >> "$work/links-made"
    links=$((links + 1))
    local skind slink spath sname smaster
    while read -r skind _ slink spath sname smaster; do
      if [ "$skind" != slave ] || [ "$sname" != "$name" ] || [ "$smaster" != "$path" ]; then
        continue
      fi
      [ -e "$stage$spath" ] || [ -L "$stage$spath" ] || continue
      [ -e "$target$slink" ] && continue
      root_link "$target" "$slink" "$spath"
      echo "install-debs: link $slink -> $spath (slave of $name)"
      echo "$slink" >> "$work/links-made"
      links=$((links + 1))
    done < "$work/alternatives"
  done < <(sort -k2,2nr "$work/alternatives")
  echo "install-debs: $links alternatives links made"

  if [ "$target" = / ]; then
    ldconfig && echo "install-debs: ldconfig done"
  fi
  mkdir -p "$state"
  tr '\0' '\n' < "$work/add" | sed 's|^|/|' >> "$state/gpu-debs.files"
  [ -e "$work/links-made" ] && cat "$work/links-made" >> "$state/gpu-debs.files"
  cp "$work/kept" "$state/gpu-debs.kept"
  cp "$manifest" "$state/gpu-debs.MANIFEST"
  rm -rf "$work"
}

if [ "${1:-}" = --install-debs ]; then
  install_debs "$debs" "${2:-/}"
  rc=$?
  exit $((rc == 3 ? 0 : rc))
fi

# ---------------------------------------------------------------------------------------------
out=${OUT:-$root/build-gpu}
build=$root/build-gpu
jobs=${JOURNEY_JOBS:-16}
step_limit=${JOURNEY_GPU_STEP_TIMEOUT:-300}
bench_limit=${JOURNEY_GPU_BENCH_TIMEOUT:-420}
mkdir -p "$out"
report=$out/gpu-check.txt
: > "$report"
say() { echo "$*" | tee -a "$report"; }
start=$SECONDS

# Open MPI on one node as root, without ssh or rsh: an empty launch agent keeps mpirun (and a
# singleton MPI_Init's daemon) from looking for one; vader's single-copy needs ptrace, which
# containers often refuse. Values already set are kept.
export OMPI_MCA_plm_rsh_agent=${OMPI_MCA_plm_rsh_agent-}
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism-none}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# HDF5 aborts when its headers and library differ in version, even within one soname (103):
# that happens where the machine had HDF5's run-time library but not its headers, which then
# come from Debian. Warn instead.
export HDF5_DISABLE_VERSION_CHECK=${HDF5_DISABLE_VERSION_CHECK-1}

names=() statuses=() notes=()
record() {  # record NAME PASS|FAIL|SKIP SECONDS [NOTE]
  names+=("$1") statuses+=("$2") notes+=("$3 s${4:+  $4}")
  say "gpu-check: $1: $2${4:+ ($4)}"
}
tail_log() {  # tail_log LOG: its last 30 lines, into the report
  say "---- last 30 lines of $1"
  tail -n 30 "$1" | tee -a "$report"
  say "----"
}
# A target counts as built when ninja has nothing left to do for it (not a stale binary).
built() { ninja -C "$build" -n "$1" 2>/dev/null | grep -q 'no work to do'; }
run_limited() {  # run_limited SECONDS CMD...: the command's status, 124 after a timeout
  timeout -k 10 "$@"
  local rc=$?
  [ "$rc" -ne 124 ] || say "gpu-check: timed out after $1 s: ${*:2}"
  return "$rc"
}

say "gpu-check: $(date -u '+%Y-%m-%d %H:%M UTC') on $(hostname)"
command -v nvidia-smi >/dev/null && say "gpu: $(nvidia-smi -L 2>&1 | head -n 2 | paste -sd';')"

# -- torch ------------------------------------------------------------------------------------
python=${PYTHON:-python3}
t0=$SECONDS
torch_info=$("$python" - <<'PY' 2>"$out/torch.log"
import torch, torch.utils
print(torch.utils.cmake_prefix_path)
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU visible"
print(torch.__version__, "CUDA", torch.version.cuda, gpu)
print(int(torch._C._GLIBCXX_USE_CXX11_ABI))
assert torch.cuda.is_available(), "this PyTorch sees no CUDA GPU"
PY
)
rc=$?
torch_prefix=$(sed -n 1p <<<"$torch_info")
[ -z "$torch_prefix" ] || say "torch: $(sed -n 2p <<<"$torch_info") ($torch_prefix)"
if [ "$rc" -ne 0 ]; then
  tee -a "$report" < "$out/torch.log"
  record torch FAIL $((SECONDS - t0)) "$python: no torch that sees a CUDA GPU"
elif [ "$(sed -n 3p <<<"$torch_info")" != 1 ]; then
  record torch FAIL $((SECONDS - t0)) "pre-C++11 string ABI, unlike Debian's C++ libraries; \
use a PyTorch built with the C++11 ABI (pip wheels from 2.7 on)"
else
  record torch PASS $((SECONDS - t0))
fi

# -- deps -------------------------------------------------------------------------------------
t0=$SECONDS
if compgen -G "$debs/*.deb" >/dev/null; then
  say "== deps: merging the .debs of $debs into /"
  install_debs "$debs" / > "$out/deps.log" 2>&1
  rc=$?
  tee -a "$report" < "$out/deps.log"
  hash -r
  if [ "$rc" -eq 0 ]; then
    record deps PASS $((SECONDS - t0)) "$out/deps.log"
  elif [ "$rc" -eq 3 ]; then
    record deps SKIP $((SECONDS - t0)) "left / alone ($out/deps.log)"
  else
    record deps FAIL $((SECONDS - t0)) "$out/deps.log"
  fi
else
  record deps SKIP 0 "no .debs in $debs: the system's libraries only"
fi
# Which copy of each library the programs will load (the machine's own or the merged one).
ldconfig -p 2>/dev/null |
  grep -E 'lib(blas|openblas|hdf5_serial|boost_program_options|sentencepiece|crypto|mpi)\.so\.[0-9.]+ ' |
  sed 's/^[[:space:]]*/libs: /' | tee -a "$report"
for tool in mpicc mpirun cmake ninja g++; do
  if command -v "$tool" >/dev/null; then
    # mpicc --version is the compiler's; --showme:version is Open MPI's.
    version=$({ [ "$tool" = mpicc ] && mpicc --showme:version 2>/dev/null; } ||
              "$tool" --version 2>&1 | head -n 1)
    say "$tool: $(command -v "$tool"): $version"
  else
    say "$tool: not found"
  fi
done

# -- configure and build ----------------------------------------------------------------------
configure() {  # configure NCCL
  local args=(-DCMAKE_BUILD_TYPE=Release -DJOURNEY_NCCL="$1"
              -DJOURNEY_PYTHON="$(command -v "$python")")
  [ -n "${torch_prefix:-}" ] && args+=(-DCMAKE_PREFIX_PATH="$torch_prefix")
  # Boost.Program_options 1.74 (gpu-deps.sh): its own headers with its library, whatever
  # other Boost the machine has.
  if [ -d "$boost_po_include" ] && [ -e "$boost_po_library" ]; then
    # A header found outside the subset would mix two Boost versions: say so.
    local deps stray
    if deps=$(echo '#include <boost/program_options.hpp>' |
              g++ -std=c++17 -isystem "$boost_po_include" -x c++ -M - 2>&1); then
      stray=$(tr -s '\\ ' '\n' <<<"$deps" | grep '/boost/' | grep -v "^$boost_po_include/")
      [ -z "$stray" ] || say "configure: warning: Boost headers from outside $boost_po_include:" \
                             "$(paste -sd' ' <<<"$stray")"
    else
      say "configure: warning: boost/program_options.hpp does not preprocess with" \
          "$boost_po_include: $(tail -n 3 <<<"$deps" | paste -sd' ')"
    fi
    say "configure: Boost.Program_options $boost_po_library with $boost_po_include"
    args+=(-DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON
           -DJOURNEY_PROGRAM_OPTIONS_INCLUDE_DIR="$boost_po_include"
           -DJOURNEY_PROGRAM_OPTIONS_LIBRARY="$boost_po_library")
  fi
  echo "cmake --fresh -S $root -B $build -G Ninja ${args[*]}" > "$out/cmake.log"
  cmake --fresh -S "$root" -B "$build" -G Ninja "${args[@]}" >> "$out/cmake.log" 2>&1
}
say "== configure"
t0=$SECONDS
configured=0
if configure ON; then
  configured=1
  record configure PASS $((SECONDS - t0)) "$out/cmake.log"
else
  tail_log "$out/cmake.log"
  if grep -q 'JOURNEY_NCCL=ON but' "$out/cmake.log"; then
    # Without the NCCL backend the other checks still run.
    mv "$out/cmake.log" "$out/cmake-nccl.log"
    if configure OFF; then
      configured=1
      record configure FAIL $((SECONDS - t0)) "NCCL not found ($out/cmake-nccl.log); built without it"
    else
      tail_log "$out/cmake.log"
      record configure FAIL $((SECONDS - t0)) "$out/cmake.log"
    fi
  else
    record configure FAIL $((SECONDS - t0)) "$out/cmake.log"
  fi
fi

say "== build (ninja -j $jobs)"
t0=$SECONDS
targets=(journey journey-torch journey_worker_tests worker_bench)
if ((configured)); then
  ninja -C "$build" -t targets all 2>/dev/null | grep -q '^journey_nccl_tests:' &&
    targets+=(journey_nccl_tests)
  if ninja -C "$build" -j "$jobs" -k 0 "${targets[@]}" > "$out/build.log" 2>&1; then
    record build PASS $((SECONDS - t0)) "${targets[*]}"
  else
    tail_log "$out/build.log"
    record build FAIL $((SECONDS - t0)) "$out/build.log; $(grep -c '^FAILED:' "$out/build.log") failed"
  fi
else
  record build SKIP 0 "not configured"
fi

# -- the checks -------------------------------------------------------------------------------
check() {  # check NAME TARGET FUNCTION: runs FUNCTION when TARGET is built
  local t0=$SECONDS rc
  say "== $1"
  if ! ((configured)) || ! built "$2"; then
    record "$1" SKIP 0 "$2 not built"
    return
  fi
  "$3"
  rc=$?
  if [ "$rc" -eq 0 ]; then
    record "$1" PASS $((SECONDS - t0))
  else
    record "$1" FAIL $((SECONDS - t0)) "exit $rc"
  fi
}

gpu_against_cpu() {
  run_limited "$step_limit" "$build/tests/journey_worker_tests" --gtest_filter='WorkerTest.WorkerGpu*' \
    2>&1 | tee -a "$report"
  return "${PIPESTATUS[0]}"
}
check "1. GPU against CPU" journey_worker_tests gpu_against_cpu

nccl_one_rank() {
  run_limited "$step_limit" "$build/tests/journey_nccl_tests" 2>&1 | tee -a "$report"
  return "${PIPESTATUS[0]}"
}
check "2. NCCL on one rank" journey_nccl_tests nccl_one_rank

sweep_on_gpu() {
  local data=$out/dataset
  if [ ! -f "$data/manifest.json" ]; then
    run_limited "$step_limit" "$build/journey" prepare --data.sources=tests/data/austen-emma.txt \
      --data.dir="$data" --data.vocab_size=512 > "$out/prepare.log" 2>&1 || {
        tail_log "$out/prepare.log"
        return 1
      }
  fi
  rm -rf "$out/sweep"
  run_limited "$step_limit" mpirun -np 2 --bind-to none "$build/journey" sweep \
    --config configs/demo.ini --out "$out/sweep" \
    --data.dir="$data" --data.vocab_size=512 --model.seq_len=64 --train.batch_tokens=4096 \
    --train.device=cuda --train.precision=bf16 --sweep.sizes=128x2x4 --sweep.sparsities="0 0.8" \
    --sweep.tokens_per_param=2 > "$out/sweep.log" 2>&1
  local rc=$?
  tail -n 8 "$out/sweep.log" | tee -a "$report"
  return "$rc"
}
check "3. a sweep of 2 cells on the GPU" journey sweep_on_gpu

throughput() {
  local precision rc=0
  for precision in bf16 fp32; do
    run_limited "$step_limit" "$build/bench/worker_bench" --size 512x6x8 --seq-len 2048 \
      --vocab 32000 --batch-tokens 65536 --steps 10 --device cuda --precision $precision \
      2>&1 | tee -a "$report"
    [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  done
  return "$rc"
}
check "4. throughput of the 58M model" worker_bench throughput

say "== 5. bench/gpu_bench.sh"
t0=$SECONDS
if [ ! -f bench/gpu_bench.sh ]; then
  record "5. gpu_bench" SKIP 0 "no bench/gpu_bench.sh"
elif OUT="$out" BUILD=build-gpu run_limited "$bench_limit" bash bench/gpu_bench.sh \
       > "$out/gpu_bench.log" 2>&1; then
  tail -n 30 "$out/gpu_bench.log" | tee -a "$report"
  record "5. gpu_bench" PASS $((SECONDS - t0)) "$out/gpu_bench.log"
else
  rc=$?
  tail_log "$out/gpu_bench.log"
  record "5. gpu_bench" FAIL $((SECONDS - t0)) "exit $rc; $out/gpu_bench.log"
fi

memory_options() {
  # The 470M model at 32,768 tokens a step with each memory option (issue #24: <= 70 GiB).
  local option rc=0
  for option in --activation-checkpointing "--micro-batch-tokens 16384"; do
    # shellcheck disable=SC2086  # The option is two words in the second case.
    run_limited "$step_limit" "$build/bench/worker_bench" --size 1024x24x16 --seq-len 2048 \
      --vocab 32000 --batch-tokens 32768 --steps 5 --device cuda --precision bf16 $option \
      2>&1 | tee -a "$report"
    [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  done
  return "$rc"
}
check "6. 470M memory options" worker_bench memory_options

bf16_against_fp32() {
  run_limited "$step_limit" scripts/gpu-precision-check.sh "$build" "$out/dataset" "$out" 512 \
    2>&1 | tee -a "$report"
  return "${PIPESTATUS[0]}"
}
check "7. bf16 against fp32, 200 steps" journey bf16_against_fp32

# -- summary ----------------------------------------------------------------------------------
failed=0
say "== summary ($((SECONDS - start)) s)"
for i in "${!names[@]}"; do
  say "$(printf '  %-34s %-4s  %s' "${names[$i]}" "${statuses[$i]}" "${notes[$i]}")"
  [ "${statuses[$i]}" != FAIL ] || failed=$((failed + 1))
done
say "gpu-check: $failed step(s) failed; report $report"
((failed == 0))
