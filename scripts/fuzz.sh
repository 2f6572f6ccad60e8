#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, docs/fuzzing.md) with clang, replays each target's
# committed regression inputs, then fuzzes each for a bounded time from its committed seed
# corpus. Exit 1 when a regression input fails again or fuzzing finds a crash, undefined
# behaviour, a broken contract, a hang or an out-of-memory in our code, naming the input;
# findings inside libhdf5 itself are listed but do not fail (docs/fuzzing.md, "HDF5's own
# bugs"). scripts/test.sh runs it after ctest.
#
#   scripts/fuzz.sh                    every target, 30 s each
#   scripts/fuzz.sh config ledger      only these targets
#   JOURNEY_FUZZ_SECONDS=300           fuzz longer
#   JOURNEY_FUZZ_BUILD_DIR=...         build somewhere other than ./build-fuzz
#   JOURNEY_FUZZ_JOBS=1                ninja's -j (default: ninja's own)
#
# Everything a run writes stays in BUILD/fuzz-runs/<target>: new inputs (corpus/, never the
# committed corpus), findings (crash-*, timeout-*, oom-*, each with its replay log *.log) and
# the fuzzer's log.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${JOURNEY_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${JOURNEY_FUZZ_SECONDS:-30}
targets=("$@")
((${#targets[@]})) || targets=(config token_shard checkpoint ledger results_csv)

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (scripts/setup.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi
if [ ! -f "$build_dir/build.ninja" ]; then
  mkdir -p "$build_dir"
  CC=clang CXX=clang++ cmake -S "$root" -B "$build_dir" -G Ninja -DJOURNEY_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build_dir/cmake.log" 2>&1 ||
    { cat "$build_dir/cmake.log" >&2; exit 1; }
fi
ninja -C "$build_dir" ${JOURNEY_FUZZ_JOBS:+-j "$JOURNEY_FUZZ_JOBS"} "${targets[@]/#/fuzz_}"

# Sanitizer findings abort with a stack trace. Leaks count too, except libhdf5's own on the
# error paths of corrupt files (tests/fuzz/lsan.supp).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/fuzz/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
timeout_s=5

# Whose bug a replay log shows: "libhdf5" when the innermost stack frame that is libhdf5's or
# in this repository's sources is libhdf5's, else "ours" (also when there is no stack, to be
# looked at). A source frame names a file and line (.../io/checkpoint_reader.cpp:123); the
# sanitizers' and libFuzzer's own frames name only the fuzz binary, which lies under $root too.
culprit() {
  local frame
  frame=$(grep -E '^ +#[0-9]+ ' "$1" | grep -m1 -E "libhdf5|$root/[^ ]+\.(cpp|h):[0-9]" || true)
  case "$frame" in
    *libhdf5*) echo libhdf5 ;;
    *) echo ours ;;
  esac
}

# A libhdf5 finding's kind of error and innermost named libhdf5 function, to group one bug.
hdf5_signature() {
  local kind function
  kind=$(grep -m1 -oE '(AddressSanitizer|LeakSanitizer|libFuzzer): [a-zA-Z-]+' "$1" || echo unknown)
  function=$(grep -E '^ +#[0-9]+ 0x[0-9a-f]+ in [^ ]+ \([^)]*libhdf5' "$1" | head -n 1 |
    sed -E 's/^ +#[0-9]+ 0x[0-9a-f]+ in ([^ ]+) .*/\1/')
  echo "$kind in libhdf5's ${function:-?}"
}

status=0
for target in "${targets[@]}"; do
  fuzzer="$build_dir/tests/fuzz/fuzz_$target"
  runs="$build_dir/fuzz-runs/$target"
  rm -rf "$runs"
  mkdir -p "$runs/corpus" "$runs/tmp"
  # The harness's scratch files and libFuzzer's job files; a crashed job leaves its own.
  export TMPDIR="$runs/tmp"

  regressions=("$root/tests/fuzz/regressions/$target"/*)
  if [ -e "${regressions[0]}" ] &&
    ! "$fuzzer" -timeout="$timeout_s" "${regressions[@]}" >"$runs/regressions.log" 2>&1; then
    status=1
    echo "fuzz: $target: a regression input fails again; the end of $runs/regressions.log:" >&2
    tail -n 40 "$runs/regressions.log" >&2
    continue
  fi

  # The checkpoint target fuzzes in fork mode, which goes on after a finding: libhdf5's own
  # come every few seconds there. The others stop at their first finding, at several times
  # fork mode's speed. The first corpus directory receives new inputs; the committed ones are
  # only read.
  mode=()
  [ "$target" = checkpoint ] && mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  dirs=("$runs/corpus" "$root/tests/fuzz/corpus/$target")
  [ -d "$root/tests/fuzz/regressions/$target" ] && dirs+=("$root/tests/fuzz/regressions/$target")
  "$fuzzer" "${mode[@]}" -max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb=2048 \
    -artifact_prefix="$runs/" "${dirs[@]}" >"$runs/log" 2>&1 || true
  # Progress lines: "#N: cov: ..." in fork mode, "#N<tab>NEW|pulse|DONE ... cov: ..." otherwise.
  executed=$(sed -n 's/^#\([0-9]*\)[:[:space:]].*cov:.*/\1/p' "$runs/log" | tail -n 1)

  ours=() hdf5=()
  for finding in "$runs"/crash-* "$runs"/timeout-* "$runs"/oom-* "$runs"/leak-*; do
    [ -e "$finding" ] || continue
    # A subshell, so that the shell's "Aborted" goes to the log too.
    ("$fuzzer" -timeout="$timeout_s" -rss_limit_mb=2048 "$finding" || true) >"$finding.log" 2>&1
    if [ "$(culprit "$finding.log")" = libhdf5 ]; then
      hdf5+=("$finding")
    else
      ours+=("$finding")
    fi
  done
  if [ -z "$executed" ] && ((${#ours[@]} + ${#hdf5[@]} == 0)); then
    status=1
    echo "fuzz: $target: the fuzzer did not run; the end of $runs/log:" >&2
    tail -n 20 "$runs/log" >&2
    continue
  fi
  summary="${executed:-0} inputs in $seconds s"
  ((${#hdf5[@]} == 0)) || summary+="; ${#hdf5[@]} findings inside libhdf5 (not ours, listed below)"
  if ((${#ours[@]} == 0)); then
    echo "fuzz: $target: ok ($summary)"
  else
    status=1
    echo "fuzz: $target: FAILED ($summary); the end of ${ours[0]}.log:" >&2
    tail -n 40 "${ours[0]}.log" >&2
    for finding in "${ours[@]}"; do echo "fuzz: $target: finding in our code: $finding" >&2; done
  fi
  for finding in "${hdf5[@]}"; do echo "$(hdf5_signature "$finding.log")|$finding"; done |
    awk -F'|' -v target="$target" '!count[$1]++ { example[$1] = $2 } END {
      for (s in count) printf "fuzz: %s: %d x %s (e.g. %s)\n", target, count[s], s, example[s] }'
done
exit "$status"
