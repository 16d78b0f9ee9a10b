# The kernel time a waiting thread spends a wake-up: woken N times by another thread's one-byte write, it waits in
# (a) epoll_wait on a FIFO registered edge-triggered, never read (the modelled sim-EvtHandlr), (b) poll over 11 fds,
# the written one read after each wake (cuda-EvtHandlr's 11: here 10 idle pipes), (c) poll over that one fd, read.
# Prints the waiter's system and user CPU per wake (RUSAGE_THREAD), medians of 5 repetitions.
import os, select, threading, time, resource, statistics, sys
N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
def run(kind):
    r, w = os.pipe(); idle = [os.pipe() for _ in range(10)]
    ready = threading.Event(); out = {}
    def waiter():
        if kind == 'epoll':
            ep = select.epoll(); ep.register(r, select.EPOLLIN | select.EPOLLET)
        else:
            p = select.poll()
            for fd in ([r] + [a for a, _ in idle] if kind == 'poll11' else [r]): p.register(fd, select.POLLIN)
        ready.set(); s = resource.getrusage(resource.RUSAGE_THREAD)
        for _ in range(N):
            if kind == 'epoll': ep.poll(-1)
            else: p.poll(); os.read(r, 64)
            ack.release()
        e = resource.getrusage(resource.RUSAGE_THREAD)
        out['sys'] = (e.ru_stime - s.ru_stime) / N * 1e6; out['user'] = (e.ru_utime - s.ru_utime) / N * 1e6
    ack = threading.Semaphore(0)
    t = threading.Thread(target=waiter); t.start(); ready.wait(); time.sleep(0.05)
    for _ in range(N):
        os.write(w, b'x'); ack.acquire()
    t.join()
    for fd in [r, w] + [x for p in idle for x in p]: os.close(fd)
    return out
rows = {}
for kind in ['epoll', 'poll11', 'poll1']:
    res = [run(kind) for _ in range(5)]
    rows[kind] = (statistics.median(x['sys'] for x in res), min(x['sys'] for x in res), max(x['sys'] for x in res), statistics.median(x['user'] for x in res))
for k, (m, lo, hi, u) in rows.items(): print('%-7s sys %.2f us a wake (%.2f-%.2f), user %.2f' % (k, m, lo, hi, u))
