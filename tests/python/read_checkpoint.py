#!/usr/bin/env python3
"""Independent reader for journey checkpoints (h5py), used by tests/io_test.cpp.

Checks that FILE is a journey-checkpoint of format_version 3 at step STEP, that every
non-empty dataset's chunks match their SHA-256 digests (attribute "sha256", recomputed here
with hashlib from docs/checkpoint-format.md's definition), and that every
dataset named by a --tensor PATH:DTYPE:SHAPE:SEED argument exists with that dtype and shape
and holds the values of the test pattern below (the same formulas as tests/io_test.cpp's
writer, computed here with numpy). Also checks that params/ holds exactly the expected
parameters. Prints every mismatch; exits 0 when all match, 1 otherwise.

  read_checkpoint.py FILE --step 1000 --tensor params/layers.0.attn.wq:float32:8x6:1 ...
"""
import argparse
import hashlib
import struct
import sys

import h5py
import numpy as np


def pattern(dtype, count, seed):
    i = np.arange(count, dtype=np.int64)
    if dtype == "float32":
        return (((i * 7 + seed * 13) % 1001 - 500) / 64.0).astype(np.float32)
    if dtype == "uint8":
        return ((i * 5 + seed) % 4 != 0).astype(np.uint8)
    if dtype == "int64":
        return i * seed - 3
    if dtype == "float64":
        return i * 0.5 + seed
    raise ValueError("unknown dtype " + dtype)


def attributes_digest(attrs):
    """docs/checkpoint-format.md: name, NUL, type letter and value, NUL, in name order."""
    text = b""
    for name in sorted(attrs.keys()):
        value = attrs[name]
        if isinstance(value, (bytes, str)):
            encoded = b"s" + (value if isinstance(value, bytes) else value.encode())
        elif isinstance(value, (float, np.floating)):
            encoded = b"d" + str(struct.unpack("<Q", struct.pack("<d", float(value)))[0]).encode()
        else:
            encoded = b"i" + str(int(value)).encode()
        text += name.encode() + b"\0" + encoded + b"\0"
    return hashlib.sha256(text).hexdigest()


def chunk_digest_problems(f):
    """Each non-empty dataset's attribute sha256[c] is the SHA-256 of chunk c's rows."""
    problems = []
    names = []
    f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    for name in names:
        d = f[name]
        if d.size == 0:
            continue
        if "sha256" not in d.attrs:
            problems.append("%s has no sha256 attribute" % name)
            continue
        rows = d.chunks[0] if d.chunks else d.shape[0]
        values = d[()]
        digests = d.attrs["sha256"]
        chunks = (d.shape[0] + rows - 1) // rows
        if digests.shape != (chunks, 32):
            problems.append("%s: sha256 has shape %s, expected %s" % (name, digests.shape,
                                                                      (chunks, 32)))
            continue
        for c in range(chunks):
            block = np.ascontiguousarray(values[c * rows:(c + 1) * rows])
            want = block.astype(block.dtype.newbyteorder("<")).tobytes()
            if hashlib.sha256(want).digest() != digests[c].tobytes():
                problems.append("%s: chunk %d does not match its sha256" % (name, c))
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--step", type=int, required=True)
    parser.add_argument("--tensor", action="append", default=[])
    args = parser.parse_args()

    problems = []
    with h5py.File(args.file, "r") as f:
        fmt = f.attrs.get("format")
        if fmt != "journey-checkpoint":
            problems.append("format attribute is %r, expected 'journey-checkpoint'" % (fmt,))
        if f.attrs.get("format_version") != 3:
            problems.append("format_version is %r" % (f.attrs.get("format_version"),))
        # The attributes' checksum, recomputed here from its documented definition.
        if "checksums/attributes" not in f:
            problems.append("checksums/attributes is missing")
        elif f["checksums/attributes"][()].tobytes().decode() != attributes_digest(f.attrs):
            problems.append("checksums/attributes does not match the attributes")
        problems += chunk_digest_problems(f)
        if f.attrs.get("step") != args.step:
            problems.append("step is %r, expected %d" % (f.attrs.get("step"), args.step))
        expected_params = set()
        for spec in args.tensor:
            path, dtype, shape_text, seed = spec.split(":")
            shape = tuple(int(d) for d in shape_text.split("x"))
            if path.startswith("params/"):
                expected_params.add(path[len("params/"):])
            if path not in f:
                problems.append("%s is missing" % path)
                continue
            d = f[path]
            if d.dtype != np.dtype(dtype):
                problems.append("%s has dtype %s, expected %s" % (path, d.dtype, dtype))
                continue
            if d.shape != shape:
                problems.append("%s has shape %s, expected %s" % (path, d.shape, shape))
                continue
            want = pattern(dtype, int(np.prod(shape)), int(seed)).reshape(shape)
            got = d[()]
            if not np.array_equal(got, want):
                bad = np.argwhere(got != want)[0]
                problems.append("%s differs at %s: %r, expected %r"
                                % (path, tuple(bad), got[tuple(bad)], want[tuple(bad)]))
        found_params = set(f["params"].keys()) if "params" in f else set()
        if found_params != expected_params:
            problems.append("params/ holds %s, expected %s"
                            % (sorted(found_params), sorted(expected_params)))
    for p in problems:
        print("read_checkpoint.py: " + p)
    if problems:
        return 1
    print("read_checkpoint.py: ok, %d datasets match" % len(args.tensor))
    return 0


if __name__ == "__main__":
    sys.exit(main())
