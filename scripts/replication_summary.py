#!/usr/bin/env python3
"""The headline numbers of the CPU replication study (RESULTS.md), from the sweeps' results.

    scripts/replication_summary.py RUNS_DIR RESULTS_DIR   collect and summarise
    scripts/replication_summary.py --check RESULTS_DIR RESULTS.md

RUNS_DIR holds the four sweep directories of scripts/replicate.sh (schedules, noise, matched,
law); RESULTS_DIR/tuned-lr (experiment 5's lr scan and fit) is written by replicate.sh before.
The first form copies what the study needs (results.csv, results.h5 with the per-step
histories, fit.json, the report's PNGs) into RESULTS_DIR/<experiment>/ and writes
RESULTS_DIR/headline.json and RESULTS_DIR/tables.md. The second form (run by ctest) recomputes
the headline numbers and tables from the committed files in RESULTS_DIR and checks that the
block between "<!-- headline -->" markers in RESULTS.md states exactly those numbers and that
every table row is in RESULTS.md.

Standard library only (any Python 3).
"""
import collections
import csv
import json
import math
import os
import shutil
import statistics
import sys

EXPERIMENTS = ["schedules", "noise", "matched", "law"]


def read_rows(path):
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["status"] == "done"]


def phase(row):
    """(dense %, pruning %) of a cell, e.g. (25, 50)."""
    cs, ce = float(row["dense_frac"]), float(row["prune_end_frac"])
    return round(100 * cs), round(100 * (ce - cs))


def schedule_grid(schedules, noise):
    """Per (sparsity, duration): every phase pair's loss, the best, the 25/50/25 gap."""
    sparse = [r for r in schedules if float(r["sparsity"]) > 0]
    groups = {}
    for r in sparse:
        key = (float(r["sparsity"]), float(r["tokens_per_param"]))
        groups.setdefault(key, {})[phase(r)] = float(r["loss"])
    # Seed noise: the standard deviation over seeds 0, 1, 2 of each 25/50/25 (or dense) cell
    # measured in both sweeps, pooled over cells.
    by_cell = {}
    for r in schedules + noise:
        if float(r["sparsity"]) > 0 and phase(r) != (25, 50):
            continue
        key = (float(r["sparsity"]), float(r["tokens_per_param"]))
        by_cell.setdefault(key, []).append(float(r["loss"]))
    variances = [statistics.variance(v) for v in by_cell.values() if len(v) >= 2]
    sigma = math.sqrt(sum(variances) / len(variances)) if variances else float("nan")
    rows = []
    for (sparsity, tpp), losses in sorted(groups.items()):
        best_pair = min(losses, key=losses.get)
        reference = losses.get((25, 50))
        ranked = sorted(losses.values())
        rows.append({
            "sparsity": sparsity,
            "tokens_per_param": tpp,
            "best": "%d/%d/%d" % (best_pair[0], best_pair[1], 100 - sum(best_pair)),
            "best_loss": losses[best_pair],
            "loss_25_50_25": reference,
            "gap": None if reference is None else reference - losses[best_pair],
            "rank_25_50_25": None if reference is None else ranked.index(reference) + 1,
            "pairs": len(losses),
        })
    return rows, sigma, len(variances)


def matched_pairs(matched):
    by_id = {r["id"]: r for r in matched}
    pairs = []
    for r in matched:
        if not r["id"].startswith("match-"):
            continue
        sparse = by_id.get(r["id"][len("match-"):])
        if sparse is None:
            continue
        pairs.append({
            "sparse": sparse["id"],
            "dense_size": r["size"],
            "n_avg_sparse": float(sparse["n_avg"]),
            "n_dense": float(r["n_avg"]),
            "tokens": int(float(sparse["tokens"])),
            "loss_sparse": float(sparse["loss"]),
            "loss_dense": float(r["loss"]),
            "difference": float(sparse["loss"]) - float(r["loss"]),
        })
    return pairs


def law_fit(fit):
    laws = []
    for law in fit["laws"]:
        v = law["validation"]
        laws.append({
            "law": law["form"] + ("" if law["form"] == "sparse" else " N=" + law["size_variable"]),
            "in_sample_mae": v["in_sample"]["mae"],
            "in_sample_max": v["in_sample"]["max"],
            "loso_mae": v["leave_one_size_out"]["mae"] if "leave_one_size_out" in v else None,
            "lospo_mae": (v["leave_one_sparsity_out"]["mae"]
                          if "leave_one_sparsity_out" in v else None),
            "coefficients": {k: c for k, c in law["coefficients"].items()},
        })
    return laws, fit["best_size_variable"]


def lr_scan(rows):
    """The dense lr scan of experiment 5: final loss per (size, lr), sizes by width."""
    return sorted(({"size": r["size"], "d_model": int(r["d_model"]), "lr": float(r["lr"]),
                    "loss": float(r["loss"])} for r in rows),
                  key=lambda r: (r["d_model"], r["lr"]))


# What RESULTS.md states: the headline numbers and the rows of its tables.
Summary = collections.namedtuple("Summary", "numbers grid pairs laws scan tuned_laws")


def headline(results_dir):
    """The numbers RESULTS.md states, recomputed from the committed results: a Summary."""
    load = lambda e: read_rows(os.path.join(results_dir, e, "results.csv"))
    grid, sigma, sigma_cells = schedule_grid(load("schedules"), load("noise"))
    pairs = matched_pairs(load("matched"))
    with open(os.path.join(results_dir, "law", "fit.json")) as f:
        laws, best = law_fit(json.load(f))
    scan = lr_scan(read_rows(os.path.join(results_dir, "tuned-lr", "lr-scan.csv")))
    with open(os.path.join(results_dir, "tuned-lr", "fit.json")) as f:
        tuned_laws, tuned_best = law_fit(json.load(f))
    tuned = {l["law"]: l for l in tuned_laws}["chinchilla N=avg"]
    gaps = [r["gap"] for r in grid if r["gap"] is not None]
    law = {l["law"]: l for l in laws}
    avg = law["chinchilla N=avg"]
    numbers = {
        "schedule_cells": sum(r["pairs"] for r in grid),
        "seed_sigma": sigma,
        "seed_sigma_cells": sigma_cells,
        "gap_25_50_25_mean": statistics.mean(gaps),
        "gap_25_50_25_max": max(gaps),
        "within_2sigma": sum(g <= 2 * sigma * math.sqrt(2) for g in gaps),
        "grid_groups": len(gaps),
        "matched_pairs": len(pairs),
        "matched_mean_difference": statistics.mean(p["difference"] for p in pairs),
        "matched_max_abs_difference": max(abs(p["difference"]) for p in pairs),
        "law_mae_avg": avg["in_sample_mae"],
        "law_loso_avg": avg["loso_mae"],
        "law_lospo_avg": avg["lospo_mae"],
        "law_mae_final": law["chinchilla N=final"]["in_sample_mae"],
        "law_mae_initial": law["chinchilla N=initial"]["in_sample_mae"],
        "law_mae_sparse_form": law["sparse"]["in_sample_mae"],
        "best_size_variable": best,
        "law_points": len(load("law")),
        "tuned_lr_law_mae_avg": tuned["in_sample_mae"],
        "tuned_lr_law_loso_avg": tuned["loso_mae"],
        "tuned_lr_law_lospo_avg": tuned["lospo_mae"],
        "tuned_lr_alpha_avg": tuned["coefficients"]["alpha"]["estimate"],
        "tuned_lr_beta_avg": tuned["coefficients"]["beta"]["estimate"],
        "tuned_lr_best_size_variable": tuned_best,
        "law_alpha_avg": avg["coefficients"]["alpha"]["estimate"],
        "law_beta_avg": avg["coefficients"]["beta"]["estimate"],
    }
    return Summary(numbers, grid, pairs, laws, scan, tuned_laws)


def fmt(value):
    if isinstance(value, float):
        return "%.4f" % value
    return str(value)


def law_tables(title, laws):
    out = ["\n### %s: fits and their errors (loss, nats per token)\n" % title,
           "| law | in-sample MAE | max error | leave-one-size-out MAE | "
           "leave-one-sparsity-out MAE |", "| --- | --- | --- | --- | --- |"]
    for l in laws:
        out.append("| %s | %.4f | %.4f | %s | %s |" % (
            l["law"], l["in_sample_mae"], l["in_sample_max"], fmt(l["loso_mae"]),
            fmt(l["lospo_mae"])))
    out += ["\n### %s: coefficients with bootstrap standard errors and 95 %% intervals\n" % title,
            "| law | coefficient | estimate | se | 95 % interval |", "| --- | --- | --- | --- | --- |"]
    for l in laws:
        for name, c in l["coefficients"].items():
            out.append("| %s | %s | %.4g | %s | [%.4g, %.4g] |" % (
                l["law"], name, c["estimate"], general(c["se"]), c["ci95"][0], c["ci95"][1]))
    return out


def tables(summary):
    grid, pairs, scan = summary.grid, summary.pairs, summary.scan
    sigma = summary.numbers["seed_sigma"]
    out = ["### Schedule grid (64x2x4): best (dense/pruning/recovery) split per sparsity and "
           "duration\n",
           "| sparsity | tokens/param | best split | best loss | 25/50/25 loss | gap | rank of 25/50/25 |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in grid:
        out.append("| %g | %g | %s | %.4f | %s | %s | %s of %d |" % (
            r["sparsity"], r["tokens_per_param"], r["best"], r["best_loss"],
            fmt(r["loss_25_50_25"]), fmt(r["gap"]), r["rank_25_50_25"], r["pairs"]))
    out.append("\nSeed noise (standard deviation of one run's loss): %.4f\n" % sigma)
    out += ["### Matched pairs: sparse run against a dense run of its N-bar, same tokens\n",
            "| sparse run | N-bar | dense size | dense N | tokens | sparse loss | dense loss | "
            "sparse - dense |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for p in pairs:
        out.append("| %s | %.0f | %s | %.0f | %d | %.4f | %.4f | %+.4f |" % (
            p["sparse"], p["n_avg_sparse"], p["dense_size"], p["n_dense"], p["tokens"],
            p["loss_sparse"], p["loss_dense"], p["difference"]))
    out += law_tables("Law grid", summary.laws)
    out += ["\n### Learning-rate scan: dense runs at 3 tokens per parameter\n",
            "| size | lr | final eval loss | best for its size |", "| --- | --- | --- | --- |"]
    best = {}
    for r in scan:
        best[r["size"]] = min(best.get(r["size"], math.inf), r["loss"])
    for r in scan:
        out.append("| %s | %g | %.4f | %s |" % (r["size"], r["lr"], r["loss"],
                                                "yes" if r["loss"] == best[r["size"]] else ""))
    out += law_tables("Law grid with lr tuned per size", summary.tuned_laws)
    return "\n".join(out) + "\n"


def general(value):
    """A number to 3 significant digits; the fit writes null where a bootstrap overflowed."""
    return "overflow" if value is None else "%.3g" % value


def headline_block(numbers):
    return "\n".join("%s: %s" % (k, fmt(v)) for k, v in numbers.items())


def collect(runs_dir, results_dir):
    for e in EXPERIMENTS:
        src, dst = os.path.join(runs_dir, e), os.path.join(results_dir, e)
        os.makedirs(os.path.join(dst, "figures"), exist_ok=True)
        for name in ["results.csv", "results.h5", "fit.json", "fit.csv", "sweep.ini"]:
            if os.path.exists(os.path.join(src, name)):
                shutil.copy2(os.path.join(src, name), os.path.join(dst, name))
        figures = os.path.join(src, "figures")
        if os.path.isdir(figures):
            for png in sorted(os.listdir(figures)):
                shutil.copy2(os.path.join(figures, png), os.path.join(dst, "figures", png))
    summary = headline(results_dir)
    with open(os.path.join(results_dir, "headline.json"), "w") as f:
        json.dump(summary.numbers, f, indent=1)
    with open(os.path.join(results_dir, "tables.md"), "w") as f:
        f.write(tables(summary))
    print(headline_block(summary.numbers))


def check(results_dir, results_md):
    summary = headline(results_dir)
    with open(results_md) as f:
        text = f.read()
    lines = set(text.splitlines())
    missing = [l for l in tables(summary).splitlines() if l.startswith("|") and l not in lines]
    if missing:
        sys.exit("%s: %d table rows differ from the results in %s, first:\n%s" % (
            results_md, len(missing), results_dir, missing[0]))
    marker = "<!-- headline -->"
    if text.count(marker) != 2:
        sys.exit("%s: expected the headline block between two '%s' lines" % (results_md, marker))
    stated = text.split(marker)[1].strip().strip("`").strip()
    expected = headline_block(summary.numbers)
    if stated != expected:
        sys.exit("%s states:\n%s\nbut the results give:\n%s" % (results_md, stated, expected))
    print("RESULTS.md headline numbers and tables match %s" % results_dir)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3:
        collect(sys.argv[1], sys.argv[2])
    else:
        sys.exit(__doc__)
