#!/usr/bin/env python3
"""Reads a run directory's TensorBoard event files with TensorBoard's own reader.

Prints one line per scalar point, "point TAG STEP VALUE", in TensorBoard's order, after the
reader has applied SessionLog START purges (a resumed run's repeated steps are dropped), so
tests/resume_test.cpp can compare them with metrics.csv and eval.csv.

  read_tensorboard.py RUN_DIR
"""
import sys

from tensorboard.backend.event_processing import event_accumulator


def main():
    accumulator = event_accumulator.EventAccumulator(
        sys.argv[1], size_guidance={event_accumulator.SCALARS: 0})
    accumulator.Reload()
    for tag in sorted(accumulator.Tags()["scalars"]):
        for point in accumulator.Scalars(tag):
            print("point %s %d %r" % (tag, point.step, point.value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
