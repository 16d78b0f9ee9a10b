#!/usr/bin/env python3
"""Summarises the real-time modelled GPU's blocked waits in the host-timings diagnostic (CONTENTION_HOST_TIMINGS=DIR, docs/sim.md).

sleep-PID-N.csv (one per blocking tenant of the modelled GPU): each sleep's due wake (the GPU
thread's stamp), when the thread ran, how long it then spun for its work, the lead it had asked and
whether it gave up and slept again. Per file:

  sleeps     sleeps, and the share that gave up and slept again
  wake-up    when the thread ran after its wake was due, µs: median, p90, p99 (this host's wake-up
             latency, the engine's lateness included): what the lead is to cover
  lead       the lead asked, µs: median
  spun       µs spun after waking for the work to end: median, mean, and CPU seconds a second of
             the file's span (the synchronise's own spin to the intended return is not in it)

wake-PID-N.csv (one per modelled GPU, written when it stops): each blocked tenant's wake. Per slot:

  wakes      wakes, and the share woken from a prediction of the work's end (the rest from the completion)
  error      modelled end less the predicted one, µs (above 0: predicted early): p5, p25, median, p75, p95
  early      the share of wakes whose prediction was early by more than the lead (the tenant spins
             it out and sleeps again)

Usage: scripts/wake-timings.py DIR
"""
import glob
import os
import statistics
import sys

from timings import quantile, read


def rows(path):
    header, data, _ = read(path)
    return header, data


def quantiles(values, ps):
    return [quantile(values, p / 100) for p in ps]


def sleeps(path):
    header, data = rows(path)
    if header != ["due_ns", "woke_ns", "spun_ns", "lead_ns", "again"]:
        raise SystemExit(f"{path}: not a sleep recorder's file ({header})")
    if not data:
        return
    wake = [(r[1] - r[0]) / 1e3 for r in data]
    spun = [r[2] / 1e3 for r in data]
    span_s = max((data[-1][1] - data[0][1]) / 1e9, 1e-9)
    w50, w90, w99 = quantiles(wake, [50, 90, 99])
    print(f"{os.path.basename(path):<24} {len(data):>7} {sum(r[4] for r in data) / len(data):>6.1%} "
          f"{w50:>8.1f} {w90:>8.1f} {w99:>8.1f} {statistics.median(r[3] / 1e3 for r in data):>7.1f} "
          f"{statistics.median(spun):>8.1f} {statistics.mean(spun):>8.1f} {sum(spun) / 1e6 / span_s:>8.4f}")


def wakes(path):
    header, data = rows(path)
    if header != ["slot", "due_ns", "reckoned_end_ns", "end_ns", "lead_ns"]:
        raise SystemExit(f"{path}: not a wake recorder's file ({header})")
    for slot in sorted({r[0] for r in data}):
        mine = [r for r in data if r[0] == slot]
        predicted = [r for r in mine if r[2] != 0]
        error = [(r[3] - r[2]) / 1e3 for r in predicted]
        p5, p25, p50, p75, p95 = quantiles(error, [5, 25, 50, 75, 95])
        early = sum(1 for r in predicted if r[3] - r[2] > r[4]) / len(mine)
        print(f"{os.path.basename(path):<24} {slot:>4} {len(mine):>7} {len(predicted) / len(mine):>6.1%} "
              f"{p5:>8.1f} {p25:>8.1f} {p50:>8.1f} {p75:>8.1f} {p95:>8.1f} {early:>6.1%}")


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        raise SystemExit(__doc__)
    directory = sys.argv[1]
    sleep_files = sorted(glob.glob(os.path.join(directory, "**", "sleep-*.csv"), recursive=True))
    wake_files = sorted(glob.glob(os.path.join(directory, "**", "wake-*.csv"), recursive=True))
    if not sleep_files and not wake_files:
        raise SystemExit(f"no sleep-*.csv or wake-*.csv under {directory}: run the modelled GPU with CONTENTION_HOST_TIMINGS={directory}")
    if sleep_files:
        print(f"{'file':<24} {'sleeps':>7} {'again':>6} {'wake p50':>8} {'p90':>8} {'p99':>8} {'lead':>7} {'spun p50':>8} {'mean':>8} {'cpu s/s':>8}")
        for path in sleep_files:
            sleeps(path)
    if wake_files:
        print(f"{'file':<24} {'slot':>4} {'wakes':>7} {'pred':>6} {'err p5':>8} {'p25':>8} {'p50':>8} {'p75':>8} {'p95':>8} {'early':>6}")
        for path in wake_files:
            wakes(path)


if __name__ == "__main__":
    main()
