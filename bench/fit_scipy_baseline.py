#!/usr/bin/env python3
"""SciPy baseline for bench/fit_bench.cpp: the same Chinchilla Approach 3 pipeline in Python.

Same data (the 240 Chinchilla points), objective (Huber, delta 1e-3, on log-loss residuals,
summed; log-sum-exp parameterisation; analytic gradient, vectorised with NumPy) and
procedure as `journey fit` (fit/huber_fit.h, fit/bootstrap.h):
  grid stage   scipy.optimize.minimize(method="L-BFGS-B") with SciPy's default tolerances
               (ftol 2.2e-9, gtol 1e-5) from each of the 4500 starts;
  polishing    the distinct optima (at most 8, 0.05 apart) again with ftol 0, gtol 1e-8;
  bootstrap    N resamples over points, each refitted from the full-data optima plus the
               optimum with (alpha, beta) moved by +-0.1: grid stage, then polishing of
               the best end point. Like the C++, a resample is fitted as the drawn points
               weighted by how often each was drawn.
Work is spread over --processes worker processes (default 2, like the C++ threads).
Resamples come from NumPy's generator, so they differ from the C++ ones: compare the
standard errors statistically, not digit by digit.

--starts K fits only every (4500 / K)-th start of the grid, and --resamples N fewer
resamples, for a documented subset when the full run would take too long; the output
gives the time per start and per resample so the full run can be extrapolated.

Prints one line "key value" per measurement (starts, grid_s, grid_cpu_s, resamples,
bootstrap_s, bootstrap_cpu_s, total_s; *_cpu_s is CPU time summed over the parent and the
workers' tasks, which a busy machine disturbs less than wall time) and the coefficients.
"""
import argparse
import csv
import multiprocessing
import os
import time

import numpy as np
from scipy.optimize import minimize

DELTA = 1e-3
GRID_OPTIONS = {}  # SciPy's defaults: ftol 2.220446049250313e-09, gtol 1e-05
POLISH_OPTIONS = {"ftol": 0.0, "gtol": 1e-8, "maxiter": 10000}
SAME_OPTIMUM = 0.05
MAX_OPTIMA = 8

LOG_N = LOG_D = LOG_L = None  # set per process


def load(path):
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f):
            n, c, loss = float(r["Model Size"]), float(r["Training FLOP"]), float(r["loss"])
            rows.append((n, c / (6 * n), loss))
    rows.sort(key=lambda r: r[2])
    rows = rows[:-5]  # drop the 5 highest losses, as Epoch AI did
    a = np.array(rows)
    return np.log(a[:, 0]), np.log(a[:, 1]), np.log(a[:, 2])


def objective(x, log_n, log_d, log_l, weight):
    a, b, e, alpha, beta = x
    u = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    m = u.max(axis=0)
    w = np.exp(u - m)
    s = w.sum(axis=0)
    r = m + np.log(s) - log_l
    abs_r = np.abs(r)
    inside = abs_r <= DELTA
    f = (weight * np.where(inside, 0.5 * r * r, DELTA * (abs_r - 0.5 * DELTA))).sum()
    slope = weight * np.where(inside, r, DELTA * np.sign(r))
    soft = w / s
    g = np.array([
        (slope * soft[0]).sum(),
        (slope * soft[1]).sum(),
        (slope * soft[2]).sum(),
        -(slope * soft[0] * log_n).sum(),
        -(slope * soft[1] * log_d).sum(),
    ])
    return f, g


def run_start(args):
    """One L-BFGS-B run: (objective, x, CPU seconds it took in its worker)."""
    x0, options, counts = args
    cpu = time.process_time()
    if counts is None:
        data = (LOG_N, LOG_D, LOG_L, np.ones_like(LOG_N))
    else:
        drawn = counts > 0
        data = (LOG_N[drawn], LOG_D[drawn], LOG_L[drawn], counts[drawn].astype(float))
    res = minimize(objective, x0, args=data, jac=True, method="L-BFGS-B", options=options)
    return res.fun, list(res.x), time.process_time() - cpu


def distinct(ends):
    kept = []
    for f, x in sorted(ends, key=lambda e: e[0]):
        if not np.isfinite(f) or len(kept) >= MAX_OPTIMA:
            break
        if all(np.max(np.abs(np.array(x) - np.array(k[1]))) >= SAME_OPTIMUM for k in kept):
            kept.append((f, x))
    return kept


def fit(starts, polished_optima, counts=None, pool=None):
    """Grid stage then polishing; returns (distinct optima best first, worker CPU seconds)."""
    mapper = pool.map if pool is not None else map
    ends = list(mapper(run_start, [(s, GRID_OPTIONS, counts) for s in starts]))
    cpu = sum(e[2] for e in ends)
    optima = distinct([e[:2] for e in ends])
    polished = list(mapper(run_start, [(x, POLISH_OPTIONS, counts)
                                       for _, x in optima[:polished_optima]]))
    cpu += sum(p[2] for p in polished)
    optima = [min(p[:2], o, key=lambda e: e[0]) for p, o in zip(polished, optima)] + \
        optima[polished_optima:]
    return distinct(optima), cpu


def refit(args):
    """A resample's fit, polishing the best end point, as fit/bootstrap.h does."""
    starts, counts = args
    optima, cpu = fit(starts, 1, counts)
    return optima[0][1], cpu


def init(path):
    global LOG_N, LOG_D, LOG_L
    LOG_N, LOG_D, LOG_L = load(path)


def coefficients(x):
    a, b, e, alpha, beta = x
    return [np.exp(a), np.exp(b), np.exp(e), alpha, beta]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(here, "..", "tests", "data", "chinchilla",
                                                  "svg_extracted_data.csv"))
    p.add_argument("--starts", type=int, default=4500)
    p.add_argument("--resamples", type=int, default=1000)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    grid = [[a, b, e, alpha, beta]
            for a in np.arange(0, 30, 5.0) for b in np.arange(0, 30, 5.0)
            for e in np.arange(-1, 1.5, 0.5)
            for alpha in np.arange(0, 2.5, 0.5) for beta in np.arange(0, 2.5, 0.5)]
    assert len(grid) == 4500
    stride = max(1, len(grid) // args.starts)
    starts = grid[::stride]

    init(args.data)
    with multiprocessing.Pool(args.processes, initializer=init, initargs=(args.data,)) as pool:
        t0, c0 = time.perf_counter(), time.process_time()
        optima, grid_cpu = fit(starts, MAX_OPTIMA, pool=pool)
        t1, c1 = time.perf_counter(), time.process_time()
        grid_cpu += c1 - c0
        best = optima[0][1]
        refit_starts = [x for _, x in optima]
        for d_alpha in (-0.1, 0.1):
            for d_beta in (-0.1, 0.1):
                x = list(best)
                x[3] += d_alpha
                x[4] += d_beta
                refit_starts.append(x)
        rng = np.random.default_rng(args.seed)
        n = len(LOG_N)
        jobs = [(refit_starts, np.bincount(rng.integers(0, n, n), minlength=n))
                for _ in range(args.resamples)]
        fits = pool.map(refit, jobs)
        draws = np.array([coefficients(x) for x, _ in fits])
        t2, c2 = time.perf_counter(), time.process_time()
        bootstrap_cpu = sum(cpu for _, cpu in fits) + c2 - c1

    print(f"starts {len(starts)}")
    print(f"grid_s {t1 - t0:.3f}")
    print(f"grid_cpu_s {grid_cpu:.3f}")
    print(f"resamples {args.resamples}")
    print(f"bootstrap_s {t2 - t1:.3f}")
    print(f"bootstrap_cpu_s {bootstrap_cpu:.3f}")
    print(f"total_s {t2 - t0:.3f}")
    names = ["A", "B", "E", "alpha", "beta"]
    for name, value, column in zip(names, coefficients(best), draws.T):
        lo, hi = np.quantile(column, [0.025, 0.975]) if len(column) else (np.nan, np.nan)
        se = column.std(ddof=1) if len(column) > 1 else np.nan
        print(f"{name} {value:.6g} se {se:.4g} ci95 [{lo:.6g}, {hi:.6g}]")


if __name__ == "__main__":
    main()
