#!/usr/bin/env python3
"""Summarises the GPU arbiter's waits from the host-timings diagnostic (CONTENTION_HOST_TIMINGS=DIR).

Every best-effort tenant behind an arbiter wrote admit-PID-N.csv (each launch it asked for: when,
when it went, its predicted time, its sleeps, what held it last) and arbiter-sleep-PID-N.csv (each
sleep: when it began, when it was due, when it returned, when its launch asked, whether a close or
take-back woke it), in ns on the node's monotonic clock; `contention simulate` writes
admit-vRUN-PID-N.csv and arbiter-sleep-vRUN-PID-N.csv for virtual time's arbiter (the same launches and sleeps, virtual ns).
Real files whose spans overlap belong to one run. Per run:

  waits     launches' waits by predicted size: p50, p90, p99, max (us)
  races     launches that went while another tenant's launch waited: the share whose own wait was
            the shortest / in between / the longest of those waiting (who wins a race)
  lateness  sleeps that ran to their deadline: how late they returned (us) by the sleep's own
            length and by the time since the launch's spin ended (ArbiterGate.SpinNs = 50 us)
  drift     each tenant's median log lateness over --window ms windows, normalised by sleep
            length: its standard deviation and the correlation of adjacent windows (WakeUpDrift);
            with --lags also the part the run's threads share and each one's own, by lag,
            and how much the level moves for sleeps of each length

Usage: scripts/arbiter-waits.py DIR [--window 50] [--lags]
"""
import argparse
import bisect
import collections
import glob
import importlib.util
import math
import os
import statistics
import sys

# The host-timings summary's file reading and run grouping (scripts/host-timings.py).
_spec = importlib.util.spec_from_file_location("host_timings", os.path.join(os.path.dirname(os.path.abspath(__file__)), "host-timings.py"))
host_timings = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(host_timings)
load = host_timings.load

SPIN_NS = 50_000


def quantile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


def correlation(a, b):
    if len(a) < 3:
        return float("nan")
    ma, mb = statistics.mean(a), statistics.mean(b)
    den = math.sqrt(sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b))
    return sum((x - ma) * (y - mb) for x, y in zip(a, b)) / den if den else float("nan")


def runs(directory):
    # Virtual time's files (admit-vRUN-PID-N.csv, contention simulate) say their run; the real
    # tenants' (admit-PID-N.csv) do not: files whose spans overlap belong to one run.
    tagged = collections.defaultdict(list)
    tenants = []
    for path in glob.glob(os.path.join(directory, "**", "admit-*.csv"), recursive=True):
        admits = load(path)
        if not admits:
            continue
        sleeps_path = path.replace("admit-", "arbiter-sleep-")
        sleeps = load(sleeps_path) if os.path.exists(sleeps_path) else []
        name = os.path.basename(path)
        parts = name[:-len(".csv")].split("-")
        entry = (admits[0][0], admits[-1][1], name, admits, sleeps)
        if len(parts) == 4 and parts[1].startswith("v"):
            tagged[parts[1]].append(entry)
        else:
            tenants.append(entry)
    return host_timings.overlapping(tenants) + [sorted(v, key=lambda e: e[0]) for _, v in sorted(tagged.items(), key=lambda kv: int(kv[0][1:]))]


def bin_of(length_ns):
    return int(2 * math.log2(max(1.0, length_ns / 1e3)))


def summarise(number, group, window_ms, lags=False):
    print(f"run {number}: {len(group)} held tenants ({', '.join(t[2] for t in group)})")
    admits = [(a, t[2]) for t in group for a in t[3]]
    print("  waits by predicted size (us):   launches    p50     p90     p99      max")
    for low, high in [(0, 50), (50, 200), (200, 1000), (1000, 10**9)]:
        waits = [(a[1] - a[0]) / 1e3 for a, _ in admits if low * 1e3 <= a[2] < high * 1e3]
        if waits:
            label = f"{low}-{high} us" if high < 10**9 else f">{low} us"
            print(f"    {label:>14}:          {len(waits):8} {quantile(waits, .5):7.0f} {quantile(waits, .9):7.0f} {quantile(waits, .99):7.0f} {max(waits):8.0f}")
    spans = {t[2]: sorted((a[0], a[1]) for a in t[3]) for t in group}
    ranks = collections.Counter()
    for a, name in admits:
        others = []
        for other, span in spans.items():
            if other == name:
                continue
            i = bisect.bisect_right(span, (a[1], 1 << 62)) - 1
            if i >= 0 and span[i][0] <= a[1] < span[i][1]:
                others.append(a[1] - span[i][0])
        if others:
            own = a[1] - a[0]
            ranks["shortest" if own <= min(others) else "longest" if own >= max(others) else "between"] += 1
    total = sum(ranks.values())
    if total:
        print(f"  races: {total} launches went while another waited; the winner had waited the shortest "
              f"{ranks['shortest'] / total:.1%}, in between {ranks['between'] / total:.1%}, the longest {ranks['longest'] / total:.1%}")
    timed = [(s, t[2]) for t in group for s in t[4] if s[4] == 0 and s[2] > s[1]]
    if not timed:
        return
    by_length, by_spin = collections.defaultdict(list), collections.defaultdict(list)
    edges = [0, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10**9]
    for s, _ in timed:
        late = (s[2] - s[1]) / 1e3
        for store, length in ((by_length, s[1] - s[0]), (by_spin, s[1] - s[3] - SPIN_NS)):
            store[next(i for i in range(len(edges) - 1) if length / 1e3 < edges[i + 1])].append(late)
    print("  lateness of sleeps that ran to their deadline (us): by the sleep's length | by time since the spin ended")
    for i in range(len(edges) - 1):
        a, b = by_length.get(i, []), by_spin.get(i, [])
        label = f"{edges[i]}-{edges[i + 1]} us" if edges[i + 1] < 10**9 else f">{edges[i]} us"
        mean = lambda v: statistics.mean(v) if v else float("nan")
        print(f"    {label:>13}: n {len(a):7} mean {mean(a):6.1f} p99 {quantile(a, .99):6.1f} | n {len(b):7} mean {mean(b):6.1f} p99 {quantile(b, .99):6.1f}")
    medians = collections.defaultdict(list)
    for s, _ in timed:
        medians[bin_of(s[1] - s[0])].append(math.log(s[2] - s[1]))
    typical = {k: statistics.median(v) for k, v in medians.items()}
    start = min(s[0] for s, _ in timed)
    window = window_ms * 1e6
    print(f"  drift over {window_ms:g} ms windows (log lateness, normalised by sleep length): per tenant sd, adjacent-window correlation")
    levels_by_tenant = []
    for t in group:
        levels = collections.defaultdict(list)
        for s in t[4]:
            if s[4] == 0 and s[2] > s[1]:
                levels[int((s[0] - start) // window)].append(math.log(s[2] - s[1]) - typical[bin_of(s[1] - s[0])])
        level = {k: statistics.median(v) for k, v in levels.items() if len(v) >= 10}
        levels_by_tenant.append(level)
        keys = [k for k in sorted(level) if k + 1 in level]
        sd = statistics.pstdev(level.values()) if len(level) > 1 else float("nan")
        print(f"    {t[2]:>22}: {len(level):5} windows, sd {sd:.3f}, correlation {correlation([level[k] for k in keys], [level[k + 1] for k in keys]):.2f}")
        if lags:
            LAGGED.append((t[2], sd, decay(level, sd, window_ms)))
    if lags and len(levels_by_tenant) >= 2:
        shared_and_own(levels_by_tenant, window_ms)
    if lags:
        by_sleep_length(group, timed, typical, start)


# How much a thread's level moves for sleeps of each length: per length class, each tenant's
# median (normalised) log lateness over 500 ms windows, its variance less the windows' own
# sampling noise (a quarter of the variance of the difference between the medians of a window's
# odd and even sleeps), as a standard deviation; against the longest class with enough sleeps,
# the exponent that (median length / its median length) ^ exponent gives (WakeUpDrift.LengthExponent).
def by_sleep_length(group, timed, typical, start, window_ms=500):
    window = window_ms * 1e6
    classes = [(0, 30), (30, 100), (100, 300), (300, 1000)]
    rows = []
    for low, high in classes:
        variances, lengths = [], []
        for t in group:
            windows = collections.defaultdict(list)
            for s in t[4]:
                length = s[1] - s[0]
                if s[4] == 0 and s[2] > s[1] and low * 1e3 <= length < high * 1e3:
                    windows[int((s[0] - start) // window)].append(math.log(s[2] - s[1]) - typical[bin_of(length)])
                    lengths.append(length)
            full = [v for v in windows.values() if len(v) >= 20]
            if len(full) > 5:
                level = [statistics.median(v) for v in full]
                noise = [statistics.median(v[0::2]) - statistics.median(v[1::2]) for v in full]
                variances.append(statistics.pvariance(level) - statistics.pvariance(noise) / 4)
        if variances:
            rows.append((low, high, math.sqrt(max(0.0, statistics.mean(variances))), statistics.median(lengths)))
    if not rows:
        return
    _, _, full_sd, full_length = rows[-1]
    text = []
    for low, high, sd, length in rows:
        ratio = sd / full_sd if full_sd else float("nan")
        exponent = math.log(ratio) / math.log(length / full_length) if ratio > 0 and length != full_length else float("nan")
        text.append(f"{low}-{high} us {sd:.3f}" + (f" (x{ratio:.2f}, exponent {exponent:.2f})" if length != full_length else ""))
    print(f"  by sleep length ({window_ms} ms windows, less their noise): " + "; ".join(text))


# A thread's level is a part its host's threads share (all later for a while: it decides no race)
# plus its own. With the parts independent, the covariance of two threads' levels (any lag) is the
# shared part's alone, and a thread's own autocovariance less that is its own part's (plus, at lag
# 0 only, the window's sampling noise: the own part's correlations carry a reliability, the shared
# part's none). Windows every thread has; levels centred per thread.
def shared_and_own(levels, window_ms):
    common = set.intersection(*(set(level) for level in levels))
    if len(common) < 20:
        print(f"  shared and own parts: {len(common)} windows every thread has, too few")
        return
    centred = []
    for level in levels:
        mean = statistics.mean(level[k] for k in common)
        centred.append({k: level[k] - mean for k in common})

    def covariance(a, b, lag):
        keys = [k for k in common if k + lag in common]
        return sum(a[k] * b[k + lag] for k in keys) / len(keys) if len(keys) >= 10 else float("nan")

    points = []
    for lag in (0, 1, 2, 4, 8, 16, 32, 64):
        if sum(1 for k in common if k + lag in common) < 10:
            break
        cross = [covariance(a, b, lag) for i, a in enumerate(centred) for j, b in enumerate(centred) if i != j]
        shared = statistics.mean(cross)
        own = statistics.mean(covariance(a, a, lag) for a in centred) - shared
        points.append((lag * window_ms, shared, own))
    shared0, own0 = points[0][1], points[0][2]
    print(f"  shared and own parts over {len(common)} windows: sd shared {math.sqrt(max(0.0, shared0)):.3f}, own {math.sqrt(max(0.0, own0)):.3f} (own with the windows' noise)")
    for name, index, total in (("shared", 1, shared0), ("own", 2, own0)):
        lagged = [(point[0], point[index] / total) for point in points[1:]] if total > 0 else []
        text, fit = fit_decay(lagged)
        if fit is None:
            print(f"    {name}: by lag {text}; too few positive correlations to fit")
            continue
        reliability, scale = fit
        sigma = math.sqrt(max(0.0, total) * min(1.0, reliability))
        print(f"    {name}: by lag {text}; fit: reliability {reliability:.2f}, time scale {scale:.0f} ms, sigma {sigma:.3f}")


# Correlations by lag (ms) as text, and r(lag) = reliability * exp(-lag / scale) fitted by least
# squares on the logs of those above 0.05: (reliability, scale in ms), or None with fewer than two.
def fit_decay(points):
    text = " ".join(f"{lag:g}ms {r:.2f}" for lag, r in points)
    usable = [(lag, math.log(r)) for lag, r in points if r > 0.05]
    if len(usable) < 2:
        return text, None
    mx = statistics.mean(x for x, _ in usable)
    my = statistics.mean(y for _, y in usable)
    slope = sum((x - mx) * (y - my) for x, y in usable) / sum((x - mx) ** 2 for x, _ in usable)
    return text, (math.exp(my - slope * mx), -1 / slope if slope < 0 else float("inf"))


# A window's median is the thread's level plus the window's own sampling noise, which lowers every
# correlation by one factor (the reliability): fitting r(k) = reliability * exp(-k * window / T)
# over several lags separates the two, where adjacent windows alone mistake the noise for a short T.
def decay(level, sd, window_ms):
    lags = [k for k in (1, 2, 4, 8, 16, 32, 64) if sum(1 for j in level if j + k in level) >= 20]
    points = []
    for k in lags:
        keys = [j for j in sorted(level) if j + k in level]
        r = correlation([level[j] for j in keys], [level[j + k] for j in keys])
        points.append((k * window_ms, r))
    text, fit = fit_decay(points)
    if fit is None:
        print(f"      by lag: {text}; too few positive correlations to fit")
        return points
    reliability, scale = fit
    print(f"      by lag: {text}; fit: reliability {reliability:.2f}, time scale {scale:.0f} ms, level sd {sd * math.sqrt(min(1.0, reliability)):.3f}")
    return points


LAGGED = []


# Every tenant's correlations by lag (all runs) fitted as two parts of its level, a fast and a slow
# one: r(lag) = a_fast exp(-lag / T_fast) + a_slow exp(-lag / T_slow), the two time scales shared
# (the best of a grid by squared error), each tenant's a's by least squares (at least 0); a part's
# standard deviation is the tenant's window sd times sqrt(a).
def two_parts(lagged):
    best = None
    for fast in (50, 75, 100, 150, 200, 300, 400):
        for slow in (800, 1000, 1500, 2000, 3000, 5000):
            error, fits = 0.0, []
            for _, sd, points in lagged:
                x = [(math.exp(-lag / fast), math.exp(-lag / slow)) for lag, _ in points]
                y = [r for _, r in points]
                a11 = sum(u * u for u, _ in x)
                a12 = sum(u * v for u, v in x)
                a22 = sum(v * v for _, v in x)
                b1 = sum(u * r for (u, _), r in zip(x, y))
                b2 = sum(v * r for (_, v), r in zip(x, y))
                det = a11 * a22 - a12 * a12
                af = max(0.0, (b1 * a22 - b2 * a12) / det) if det else 0.0
                aslow = max(0.0, (a11 * b2 - a12 * b1) / det) if det else 0.0
                error += sum((af * u + aslow * v - r) ** 2 for (u, v), r in zip(x, y))
                fits.append((sd * math.sqrt(af), sd * math.sqrt(aslow)))
            if best is None or error < best[0]:
                best = (error, fast, slow, fits)
    error, fast, slow, fits = best
    print(f"two parts over {len(lagged)} tenants: fast {fast} ms, slow {slow} ms (squared error {error:.3f})")
    for (name, _, _), (sf, ss) in zip(lagged, fits):
        print(f"    {name:>22}: sigma fast {sf:.3f}, slow {ss:.3f}")
    print(f"  median sigma: fast {statistics.median(f for f, _ in fits):.3f}, slow {statistics.median(s for _, s in fits):.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory")
    parser.add_argument("--window", type=float, default=50, help="window of the drift's levels, ms")
    parser.add_argument("--lags", action="store_true", help="also each tenant's level correlation at lags of 1-64 windows, the fit of reliability x exp(-lag / time scale) to them, per run the part of the levels its threads share and each one's own (sd, correlation by lag, fit), and over all tenants a fit of two parts (a fast and a slow time scale)")
    args = parser.parse_args()
    if not os.path.isdir(args.directory):
        sys.exit(f"arbiter-waits: {args.directory} is not a directory (set CONTENTION_HOST_TIMINGS=DIR for a run with an arbiter, then summarise DIR)")
    groups = runs(args.directory)
    if not groups:
        sys.exit(f"arbiter-waits: no admit-*.csv under {args.directory} (only best-effort tenants behind an arbiter write them)")
    for number, group in enumerate(groups, 1):
        summarise(number, group, args.window, args.lags)
    usable = [entry for entry in LAGGED if len(entry[2]) >= 3]
    if args.lags and usable:
        two_parts(usable)


if __name__ == "__main__":
    main()
