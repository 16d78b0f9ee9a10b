#!/usr/bin/env python3
"""Summarises the launch rows of the host-timings diagnostic (CONTENTION_HOST_TIMINGS=DIR, docs/sim.md).

Every closed- and open-loop tenant wrote launch-PID-N.csv: for each operation (a training step, a
request, a replayed step) each launch's and synchronise's call and return, ns on the node's
monotonic clock (index: the launch's place in the operation; -1 a synchronise). Per file (one
tenant process), operations from --warmup seconds after its first:

  ops        operations counted, and launches an operation
  launch     a launch's call to its return, µs: median, p99, largest
  held       launches that took over --held µs (a driver holds a launch while the GPU's queue for
             the context is full, or while it waits for something else): their share, their time
             a second of the tenant's run, and where in the operation they were (the first held
             place: median over the operations that had one; the fewest launches before one; the
             places of all held launches: 10th, 50th and 90th percentile)
  sync       a synchronise's call to its return, µs: median, p99

Usage: scripts/launch-timings.py DIR [--warmup 1] [--held 100]
"""
import argparse
import glob
import os
import statistics
import sys

from timings import quantile, read


def load(path):
    header, rows, notes = read(path)
    if header != ["operation", "index", "called_ns", "returned_ns"]:
        raise SystemExit(f"{path}: not a launch recorder's file (header {','.join(header)!r})")
    for note in notes:
        print(f"{path}: {note}", file=sys.stderr)
    return rows


def summarise(path, warmup_s, held_us):
    rows = load(path)
    if not rows:
        return None
    start = rows[0][2] + warmup_s * 1e9
    rows = [r for r in rows if r[2] >= start]
    if not rows:
        return None
    operations = sorted({r[0] for r in rows})
    launches = [(r[3] - r[2]) / 1e3 for r in rows if r[1] >= 0]
    syncs = [(r[3] - r[2]) / 1e3 for r in rows if r[1] < 0]
    held = [r for r in rows if r[1] >= 0 and (r[3] - r[2]) / 1e3 > held_us]
    span_s = max((rows[-1][3] - rows[0][2]) / 1e9, 1e-9)
    first_held = {}
    for operation, index, _, _ in held:
        first_held[operation] = min(index, first_held.get(operation, index))
    return {
        "file": os.path.basename(path),
        "ops": len(operations),
        "per_op": len(launches) / max(len(operations), 1),
        "launch": (quantile(launches, 0.5), quantile(launches, 0.99), quantile(launches, 1.0)),
        "held_share": len(held) / max(len(launches), 1),
        "held_ms_per_s": sum((r[3] - r[2]) for r in held) / 1e6 / span_s,
        "first_held": (statistics.median(first_held.values()) if first_held else float("nan"),
                       min(first_held.values(), default=float("nan"))),
        "sync": (quantile(syncs, 0.5), quantile(syncs, 0.99)),
        "held_places": tuple(quantile([r[1] for r in held], p) for p in (0.1, 0.5, 0.9)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds left out after each file's first operation")
    parser.add_argument("--held", type=float, default=100.0, help="a launch taking longer than this many µs counts as held")
    args = parser.parse_args()
    paths = sorted(glob.glob(os.path.join(args.directory, "**", "launch-*.csv"), recursive=True))
    if not paths:
        raise SystemExit(f"no launch-*.csv under {args.directory}: run with CONTENTION_HOST_TIMINGS={args.directory}")
    print(f"{'file':<28} {'ops':>5} {'/op':>6} {'launch p50':>10} {'p99':>8} {'max':>9} {'held':>6} {'ms/s':>6} {'1st held':>8} {'min':>5} {'places p10':>10} {'p50':>5} {'p90':>5} {'sync p50':>9} {'p99':>9}")
    for path in paths:
        s = summarise(path, args.warmup, args.held)
        if s is None:
            print(f"{os.path.basename(path):<28} (nothing after the warm-up)")
            continue
        print(f"{s['file']:<28} {s['ops']:>5} {s['per_op']:>6.0f} {s['launch'][0]:>10.1f} {s['launch'][1]:>8.1f} {s['launch'][2]:>9.1f} "
              f"{s['held_share']:>6.1%} {s['held_ms_per_s']:>6.1f} {s['first_held'][0]:>8.0f} {s['first_held'][1]:>5.0f} "
              f"{s['held_places'][0]:>10.0f} {s['held_places'][1]:>5.0f} {s['held_places'][2]:>5.0f} "
              f"{s['sync'][0]:>9.1f} {s['sync'][1]:>9.1f}")


if __name__ == "__main__":
    main()
