#!/usr/bin/env python3
"""Per-matrix final density of every finished cell of a sweep, from its cells' summary.json.

    scripts/matrix_density.py SWEEP_DIR > matrix_density.csv

One row per cell and prunable matrix: cell, matrix, type (wq, wk, ..., head), layer (-1 for
the head), density (the fraction of the matrix kept at the end). RESULTS.md's exclusion
ablation is built from these. Standard library only (any Python 3).
"""
import csv
import glob
import json
import os
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["cell", "matrix", "type", "layer", "density"])
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "cells", "*", "summary.json"))):
        summary = json.load(open(path))
        if summary.get("status") != "done":
            continue
        for name, sparsity in sorted(summary["final_sparsity"].items()):
            layer = int(name.split(".")[1]) if name.startswith("layers.") else -1
            out.writerow([summary["cell_id"], name, name.split(".")[-1], layer,
                          "%.6f" % (1.0 - sparsity)])


if __name__ == "__main__":
    main()
