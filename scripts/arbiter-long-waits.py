#!/usr/bin/env python3
"""The longest waits of best-effort launches behind the GPU arbiter, and how late each thread
woke meanwhile, from the host-timings diagnostic (CONTENTION_HOST_TIMINGS=DIR) of one run.

Give the run's admit-PID-N.csv files (its held tenants); each one's arbiter-sleep-PID-N.csv is read
beside it. For each of the longest waits: how many sleeps the waiting thread made, how many a change
of the gate woke, the median lateness of its sleeps that ran to their deadline, how many launches
each other thread made meanwhile, and the median lateness of their timed sleeps over the same span.
"""
import argparse
import csv
import os
import statistics


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def median_late(sleeps):
    late = [s["returned"] - s["due"] for s in sleeps if not s["changed"] and s["returned"] > s["due"]]
    return statistics.median(late) / 1e3 if late else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("admit", nargs="+", help="admit-PID-N.csv files of one run")
    parser.add_argument("--longest", type=int, default=6, help="how many of the longest waits")
    parser.add_argument("--over-ms", type=float, default=10, help="only waits longer than this")
    args = parser.parse_args()

    launches, sleeps = {}, {}
    for path in args.admit:
        name = os.path.basename(path)
        launches[name] = [(int(r["asked_ns"]), int(r["went_ns"])) for r in read(path)]
        sleep_path = os.path.join(os.path.dirname(path), name.replace("admit-", "arbiter-sleep-", 1))
        sleeps[name] = [
            {"slept": int(r["slept_ns"]), "due": int(r["due_ns"]), "returned": int(r["returned_ns"]), "changed": r["changed"] == "1"}
            for r in read(sleep_path)
        ] if os.path.exists(sleep_path) else []

    waits = sorted(
        ((went - asked, name, asked, went) for name, rows in launches.items() for asked, went in rows if went - asked > args.over_ms * 1e6),
        reverse=True,
    )[: args.longest]
    print(f"{len(launches)} held tenants; the {len(waits)} longest waits over {args.over_ms:g} ms")
    for wait, name, asked, went in waits:
        mine = [s for s in sleeps[name] if asked <= s["slept"] <= went]
        others = [o for o in launches if o != name]
        went_meanwhile = ", ".join(f"{o}: {sum(1 for _, w in launches[o] if asked <= w <= went)}" for o in others)
        late_others = ", ".join(f"{o}: {median_late([s for s in sleeps[o] if asked <= s['slept'] <= went]):.1f}" for o in others)
        print(
            f"  {name} waited {wait / 1e6:.1f} ms: {len(mine)} sleeps, {sum(1 for s in mine if s['changed'])} woken by a change; "
            f"timed sleeps late {median_late(mine):.1f} us at the median; others launched {went_meanwhile}; their timed sleeps late (us) {late_others}"
        )


if __name__ == "__main__":
    main()
