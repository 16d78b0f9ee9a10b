#!/bin/bash
# session 41: the modelled blocking wait making the driver's calls on the driver's threads (tenant: write + futex;
# sim-EvtHandlr: epoll_wait x2, read, futex) and returning at the engine-reckoned time: its calls, latency and CPU against
# the H200 (svcfast cuda/sim with --thread-calls), then the validation suite's model halves with this build.
# PART=a: svcfast sim+cuda, services, service-beside-trainers, arbiter; PART=b: isolated, service-gpu-time, replay,
# mps-neighbours; PART=c: cold-starts.
set -u
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
export NCCL_NVLS_ENABLE=0
R=$PWD; W=/tmp/s41; mkdir -p $W/out $W/new; cd $W
[ -x new/contention ] || xz -dc $R/gpu-carry/fid.txz | tar -C new -xf -
echo "build $(cat $R/gpu-carry/fid.commit) part ${PART:-a}"
export CONTENTION_CTRACE=$W/new/contention-ctrace
mkdir -p mixes/validation; cp $R/mixes/validation/*.yaml mixes/validation/; cp $R/gpu-carry/svcfast.yaml .
C=$W/new/contention
python3 - <<'PY'
def cpu():
    f=[int(x) for x in open('/proc/stat').readline().split()[1:]]
    return sum(f), f[7]
import time
a=cpu(); time.sleep(2); b=cpu()
print('steal over 2 s: %.3f %%'%(100.0*(b[1]-a[1])/max(1,b[0]-a[0])))
PY
P=${PART:-a}
pack() { find $W/out -path '*points*' -type f ! -name results.json ! -name tenants.csv ! -name thread_syscalls.csv -delete 2>/dev/null; tar -C $W -cf - out | xz -T8 -3 > $OUT/s41$P.txz; }
half() { timeout $2 $C run mixes/validation/$1.yaml --device sim --sim-profile h200 --out $W/out/sim/$1 > $W/out/sim-$1.log 2>&1; echo "$1 sim rc $?"; pack; }
if [ $P = a ]; then
  for d in sim cuda; do
    timeout 100 $C run svcfast.yaml --device $d --sim-profile h200 --thread-calls --out $W/out/svc-$d > $W/out/svc-$d.log 2>&1; echo "svc $d rc $?"; pack
  done
  cp $R/gpu-carry/yields.yaml .
  timeout 120 $C run yields.yaml --thread-calls --out $W/out/yields > $W/out/yields.log 2>&1; echo "yields rc $?"; pack
  half services 150
  half service-beside-trainers 180
  half arbiter 200
elif [ $P = b ]; then
  half isolated 230; half service-gpu-time 120; half replay 90; half mps-neighbours 110
else
  mkdir -p docs/results/h200/replay; cp $R/gpu-carry/resnet50-train-b32.ktrace.json.gz docs/results/h200/replay/
  half replay 80; half cold-starts 190
fi
pack
python3 - <<'PY'
import csv,glob,collections,json
for f in sorted(glob.glob('/tmp/s41/out/svc-*/thread_syscalls.csv')):
    rows=[r for r in csv.DictReader(open(f)) if r['phase']=='measure']
    t=[r for r in csv.DictReader(open(f.replace('thread_syscalls','tenants'))) if r['phase']=='measure'][0]
    n=float(t['completed'])
    print('==', f.split('/')[-2], 'completed %d p50 %s p99 %s user %s sys %s vol %s'%(n,t['p50_ms'],t['p99_ms'],t['user_cpu_s'],t['system_cpu_s'],t['voluntary_switches']))
    by=collections.defaultdict(dict)
    for r in rows:
        if r['category'] in ('sync-wait','file-io'):
            by[r['thread']][r['syscall']]=by[r['thread']].get(r['syscall'],0)+int(r['count'])
    for th,c in sorted(by.items(), key=lambda x:-sum(x[1].values()))[:5]:
        print('  %-16s %s'%(th,' '.join('%s=%.2f'%(k,v/n) for k,v in sorted(c.items(), key=lambda kv:-kv[1])[:6])))
import os
if os.path.exists('/tmp/s41/out/yields/thread_syscalls.csv'):
    agg=collections.Counter()
    for r in csv.DictReader(open('/tmp/s41/out/yields/thread_syscalls.csv')):
        if r['phase']=='measure' and r['syscall']=='sched_yield' and r['thread'].startswith('tenant'):
            agg[(r['point'],r.get('sync',''),r.get('train.replicas',''),r['thread'])]+=int(r['count'])
    for k,v in sorted(agg.items()): print('yields',k,v)
for f in sorted(glob.glob('/tmp/s41/out/sim/*/sweep.json')):
    runs=json.load(open(f))['runs']
    bad=[r['id'] for r in runs if r.get('invalid')]
    print('/'.join(f.split('/')[-2:-1]), len(runs), 'runs;', len(bad), 'invalid', [str(r.get('invalid'))[:70] for r in runs if r.get('invalid')][:3])
PY
