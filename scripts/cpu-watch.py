#!/usr/bin/env python3
# Which threads run, and which wait for a core, while Contention runs (docs/results/h200/host-timings).
# Every 5 ms for SECONDS: /proc/pressure/cpu's 'some' total (us), and /proc/PID/schedstat (ns on a
# CPU, ns runnable but waiting) of every process whose command line names contention, ctrace or mps:
# per thread (/proc/PID/task/TID/schedstat, with the thread's name) for the node's process (`run`)
# and three workers, per main thread for the rest. Writes OUT.json: rows [time ns, psi us, {id:
# [on, waiting]}] and names {id: command | thread name}.
# Usage: scripts/cpu-watch.py OUT.json SECONDS &   (then start the run)
import os, sys, time, json
if len(sys.argv) != 3:
    sys.exit(__doc__ if __doc__ else "usage: cpu-watch.py OUT.json SECONDS")
out = sys.argv[1]; limit = float(sys.argv[2])
def pids():
    res = {}
    for p in os.listdir('/proc'):
        if not p.isdigit(): continue
        try:
            cmd = open(f'/proc/{p}/cmdline').read().replace('\0', ' ')
            if 'contention' in cmd or 'ctrace' in cmd or 'mps' in cmd: res[p] = cmd[:120]
        except Exception: pass
    return res
def psi():
    try:
        line = open('/proc/pressure/cpu').readline(); return int(line.split('total=')[1])
    except Exception: return -1
t0 = time.monotonic_ns(); rows = []; names = {}; known = {}; last = 0
while time.monotonic_ns() - t0 < limit * 1e9:
    now = time.monotonic_ns()
    if now - last > 5e8:
        known = pids(); names.update(known); last = now
    per = {}
    workers = 0
    for p in known:
        whole = ' run ' in known[p] or ('worker' in known[p] and workers < 3)
        workers += 'worker' in known[p] and whole
        try:
            if whole:
                on = wt = 0
                for t in os.listdir(f'/proc/{p}/task'):
                    try:
                        f = open(f'/proc/{p}/task/{t}/schedstat').read().split(); on += int(f[0]); wt += int(f[1])
                        if t not in names: names[t] = known[p][:30] + ' | ' + open(f'/proc/{p}/task/{t}/comm').read().strip()
                        per[t] = (int(f[0]), int(f[1]))
                    except Exception: pass
                per[p] = (on, wt)
            else:
                f = open(f'/proc/{p}/schedstat').read().split(); per[p] = (int(f[0]), int(f[1]))
        except Exception: pass
    rows.append((now, psi(), per)); time.sleep(0.005)
with open(out, 'w') as f:
    json.dump({'rows': rows, 'names': names}, f)
