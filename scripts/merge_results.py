#!/usr/bin/env python3
"""Rows of several results.csv files as one, for fitting or tabulating cells of several sweeps.

    scripts/merge_results.py [--all] [--where COLUMN=VALUE]... [--fill COLUMN=VALUE]...
                             FIRST.csv OTHER.csv... > merged.csv

By default every row of FIRST, then the rows of each OTHER whose size is in no earlier file:
a later file fills in sizes, it never replaces a cell (RESULTS.md's experiment 5 fits the
tuned-lr sweep's two smaller sizes with the law grid's largest this way). --all keeps every
row of every file; --where keeps rows whose COLUMN equals VALUE (as numbers when both are).
Columns follow FIRST's header; a column an older file lacks is filled with --fill's value
for it, or left empty (and said on stderr). Standard library only (any Python 3).
"""
import argparse
import csv
import sys


def same(a, b):
    try:
        return float(a) == float(b)
    except ValueError:
        return a == b


def pairs(flag, values):
    for v in values:
        if "=" not in v:
            sys.exit("merge_results: %s %s: expected COLUMN=VALUE" % (flag, v))
    return [tuple(v.split("=", 1)) for v in values]


def main():
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--where", action="append", default=[])
    parser.add_argument("--fill", action="append", default=[])
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    where, fill = pairs("--where", args.where), dict(pairs("--fill", args.fill))
    out = csv.writer(sys.stdout, lineterminator="\n")
    header, sizes = None, set()
    for path in args.files:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            columns = reader.fieldnames or []
        if "size" not in columns:
            sys.exit("%s: no 'size' column; expected a Journey results.csv" % path)
        if header is None:
            header = columns
            unknown = [c for c, _ in where if c not in header]
            if unknown:
                sys.exit("merge_results: --where %s: no such column in %s" % (unknown[0], path))
            out.writerow(header)
        extra = [c for c in columns if c not in header]
        if extra:
            sys.exit("%s: columns %s are not in %s" % (path, ", ".join(extra), args.files[0]))
        missing = [c for c in header if c not in columns and c not in fill]
        if missing:
            print("merge_results: %s has no %s (an older Journey's results): left empty" % (
                path, ", ".join(missing)), file=sys.stderr)
        for r in rows:
            r.update({c: v for c, v in fill.items() if c not in columns})
        new = {r["size"] for r in rows} - sizes
        for r in rows:
            if (args.all or r["size"] in new) and all(same(r.get(c, ""), v) for c, v in where):
                out.writerow([r.get(c, "") for c in header])
        sizes |= new


if __name__ == "__main__":
    main()
