#!/usr/bin/env python3
"""Summarises the host-timings diagnostic (CONTENTION_HOST_TIMINGS=DIR, docs/sim.md).

Every open-loop tenant wrote request-PID-N.csv (arrival, start and end of each request) and every
tenant of the real-time modelled GPU sync-PID-N.csv (each synchronise's call, modelled completion,
when the thread noticed it, when the model meant it to return, and when it did), in ns on the
node's monotonic clock. Files whose spans overlap belong to one run (runs follow one another). Per
run, from --warmup seconds after its last tenant's first request (the experiment's warm-up starts
once every tenant runs) to its first tenant's last request:

  latency   arrival to end, pooled over the run's tenants, and the median of the tenants' own p99
  wake      how late a request started after its arrival, when the tenant was idle at the arrival
            (start - arrival, requests that queued behind their predecessor left out): the host's
            timer wake-up and any wait for a core
  >1ms      the share of those wake-ups over 1 ms, and the largest share of them that fell into
            one 50 ms slot of a --period cycle (a periodic stall on the node shows as a high share)
  notice    synchronise: modelled completion to the thread noticing it (the engine's publication
            and the wake-up of a blocked thread)
  extra     synchronise: how much later than the model meant the call returned
  launch    from a request's start until its last launch returned, and
  wait      from then until its end (its synchronise): in files that say when the last launch
            returned (a fourth column, launched_ns; nan for older files)

Usage: scripts/host-timings.py DIR [--warmup 2] [--period 0.5]
"""
import argparse
import glob
import os
import sys

from timings import quantile, read


def load(path):
    return read(path)[1]


def runs(directory):
    # Runs follow one another: files whose spans overlap belong to one run.
    files = []
    for path in glob.glob(os.path.join(directory, "**", "*.csv"), recursive=True):
        kind = os.path.basename(path).split("-")[0]
        if kind not in ("request", "sync"):
            continue
        rows = load(path)
        if rows:
            files.append((rows[0][0], rows[-1][0], kind, rows))
    return overlapping(files)


def overlapping(entries):
    """Entries (start, end, ...) grouped into runs: entries whose spans overlap belong to one."""
    groups = []
    for e in sorted(entries, key=lambda e: e[0]):
        if groups and e[0] <= groups[-1][0]:
            groups[-1][0] = max(groups[-1][0], e[1])
            groups[-1][1].append(e)
        else:
            groups.append([e[1], [e]])
    return [g[1] for g in groups]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds left out after the last tenant's first request")
    parser.add_argument("--period", type=float, default=0.5, help="the cycle late wake-ups are folded onto, seconds (the node's sampling interval)")
    args = parser.parse_args()
    if not os.path.isdir(args.directory):
        sys.exit(f"host-timings: {args.directory} is not a directory (set CONTENTION_HOST_TIMINGS=DIR for a run, then summarise DIR)")

    groups = runs(args.directory)
    if not groups:
        sys.exit(f"host-timings: no request-*.csv or sync-*.csv under {args.directory}")

    us = 1e3
    print("run  tenants  requests  lat p50  lat p99  tenant p99 | wake p50  p99  p99.9  >1ms  in one slot | notice p50  p99 | extra p50  p99 | launch p50  p99 | wait p50  p99   (us)")
    for number, group in enumerate(groups, 1):
        # The window: from --warmup after the last tenant's first request (the experiment's
        # warm-up begins once every tenant runs) to the first tenant's last one (none has stopped).
        requests = [f for f in group if f[2] == "request"] or group
        start = max(f[0] for f in requests) + args.warmup * 1e9
        end = min(f[1] for f in requests)
        latency, tenant_p99, wake, late_phases, notice, extra, launch, wait = [], [], [], [], [], [], [], []
        tenants = 0
        for _, _, kind, rows in group:
            if kind == "request":
                tenants += 1
                kept = [r for r in rows if start <= r[0] <= end]
                own = [(r[2] - r[0]) / us for r in kept]
                latency += own
                launch += [(r[3] - r[1]) / us for r in kept if len(r) > 3]
                wait += [(r[2] - r[3]) / us for r in kept if len(r) > 3]
                if own:
                    tenant_p99.append(quantile(own, 0.99))
                for previous, r in zip(rows, rows[1:]):
                    if start <= r[0] <= end and r[0] > previous[2]:
                        late = (r[1] - r[0]) / us
                        wake.append(late)
                        if late > 1000:
                            late_phases.append(((r[0] - start) / 1e9) % args.period)
            else:
                for r in rows:
                    if not start <= r[0] <= end:
                        continue
                    notice.append((r[2] - r[1]) / us)
                    if r[3] > 0:
                        extra.append((r[4] - r[3]) / us)
        over = len(late_phases) / len(wake) * 100 if wake else float("nan")
        slots = {}
        for phase in late_phases:
            slots[int(phase / 0.05)] = slots.get(int(phase / 0.05), 0) + 1
        crowded = max(slots.values()) / len(late_phases) * 100 if late_phases else float("nan")
        print(f"{number:3}  {tenants:7}  {len(latency):8}  {quantile(latency, .5):7.0f}  {quantile(latency, .99):7.0f}  {quantile(tenant_p99, .5):10.0f} |"
              f" {quantile(wake, .5):8.1f} {quantile(wake, .99):5.0f} {quantile(wake, .999):6.0f} {over:4.2f}%  {crowded:9.0f}% |"
              f" {quantile(notice, .5):10.1f} {quantile(notice, .99):4.0f} | {quantile(extra, .5):9.1f} {quantile(extra, .99):4.0f} |"
              f" {quantile(launch, .5):10.1f} {quantile(launch, .99):4.0f} | {quantile(wait, .5):8.1f} {quantile(wait, .99):4.0f}")


if __name__ == "__main__":
    main()
