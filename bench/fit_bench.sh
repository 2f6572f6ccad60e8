#!/usr/bin/env bash
# The scaling-law fit against SciPy, side by side in one run (BENCHMARKS.md, "Scaling-law fit").
#
#   bench/fit_bench.sh [BUILD_DIR] [SCIPY_STARTS] [SCIPY_RESAMPLES]
#
# Runs build/bench/fit_bench (C++: LBFGSpp, std::thread) and bench/fit_scipy_baseline.py
# (SciPy L-BFGS-B, multiprocessing) on the 240 Chinchilla points with 2 threads / processes
# each: the 4500-start fit plus 1000 bootstrap resamples. SciPy runs the full workload by
# default (about a minute on the 2-core machine); give SCIPY_STARTS / SCIPY_RESAMPLES to run it on a
# subset, in which case its times are scaled per start and per resample to the full workload.
# Prints both outputs, the machine and the speed-up.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${JOURNEY_PYTHON:-$root/.venv/bin/python}
build=${1:-$root/build}
scipy_starts=${2:-4500}
scipy_resamples=${3:-1000}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
echo "== C++ (fit_bench, 2 threads)"
cpp=$("$build/bench/fit_bench" --threads 2 --resamples 1000)
echo "$cpp"
echo "== SciPy (fit_scipy_baseline.py, 2 processes, $scipy_starts starts, $scipy_resamples resamples)"
py=$("$python" "$root/bench/fit_scipy_baseline.py" --processes 2 \
       --starts "$scipy_starts" --resamples "$scipy_resamples")
echo "$py"

value() { awk -v k="$1" '$1 == k {print $2}' <<<"$2"; }
"$python" - "$(value grid_s "$cpp")" "$(value bootstrap_s "$cpp")" \
    "$(value grid_cpu_s "$cpp")" "$(value bootstrap_cpu_s "$cpp")" \
    "$(value starts "$py")" "$(value resamples "$py")" \
    "$(value grid_s "$py")" "$(value bootstrap_s "$py")" \
    "$(value grid_cpu_s "$py")" "$(value bootstrap_cpu_s "$py")" <<'PY'
import sys
(cpp_grid, cpp_boot, cpp_grid_cpu, cpp_boot_cpu, py_starts, py_resamples,
 py_grid, py_boot, py_grid_cpu, py_boot_cpu) = map(float, sys.argv[1:])
# Scale SciPy per start and per resample when it ran on a subset.
g, b = 4500 / py_starts, 1000 / py_resamples
scaled = g != 1 or b != 1
print("== ratio (SciPy / C++)%s" % (" -- SciPy scaled per start and per resample" if scaled else ""))
rows = [("grid (4500 starts)", cpp_grid, py_grid * g, cpp_grid_cpu, py_grid_cpu * g),
        ("bootstrap (1000)", cpp_boot, py_boot * b, cpp_boot_cpu, py_boot_cpu * b)]
rows.append(("total", rows[0][1] + rows[1][1], rows[0][2] + rows[1][2],
             rows[0][3] + rows[1][3], rows[0][4] + rows[1][4]))
print(f"{'':20} {'wall C++':>9} {'SciPy':>9} {'ratio':>6}   {'CPU C++':>9} {'SciPy':>9} {'ratio':>6}")
for name, cw, pw, cc, pc in rows:
    print(f"{name:20} {cw:8.2f}s {pw:8.2f}s {pw / cw:5.1f}x   {cc:8.2f}s {pc:8.2f}s {pc / cc:5.1f}x")
PY
