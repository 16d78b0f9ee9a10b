# While CUDA tenants run: each cuda-EvtHandlr thread's current system call (/proc/PID/task/TID/syscall), and for
# poll/ppoll its pollfd array read from /proc/PID/mem, each fd named by /proc/PID/fd; prints each distinct shape once.
import os, struct, time, sys
seen = {}
end = time.time() + float(sys.argv[1])
names = {7: 'poll', 271: 'ppoll', 232: 'epoll_wait', 281: 'epoll_pwait', 202: 'futex', 0: 'read'}
while time.time() < end:
    for pid in os.listdir('/proc'):
        if not pid.isdigit(): continue
        try: tids = os.listdir(f'/proc/{pid}/task')
        except OSError: continue
        for tid in tids:
            try:
                comm = open(f'/proc/{pid}/task/{tid}/comm').read().strip()
                if 'EvtHandlr' not in comm: continue
                f = open(f'/proc/{pid}/task/{tid}/syscall').read().split()
            except OSError: continue
            if f[0] in ('running', '-1'): continue
            nr = int(f[0]); a = [int(x, 16) for x in f[1:7]]
            desc = [names.get(nr, str(nr))]
            if nr in (7, 271):
                nfds = a[1]
                try:
                    with open(f'/proc/{pid}/mem', 'rb') as m:
                        m.seek(a[0]); raw = m.read(8 * nfds)
                    fds = [struct.unpack_from('ihh', raw, 8 * i) for i in range(nfds)]
                    desc.append('nfds=%d timeout=%s' % (nfds, a[2] if nr == 7 else hex(a[2])))
                    for fd, ev, rev in fds:
                        try: tgt = os.readlink(f'/proc/{pid}/fd/{fd}')
                        except OSError: tgt = '?'
                        desc.append('%d:%s:ev=%#x' % (fd, tgt.split('/')[-1] if tgt.startswith('/dev') else tgt.split(':')[0], ev))
                except OSError as e:
                    desc.append('mem? %s' % e)
            key = ' '.join(desc)
            seen[key] = seen.get(key, 0) + 1
    time.sleep(0.01)
for k, v in sorted(seen.items(), key=lambda kv: -kv[1]): print(v, k)
