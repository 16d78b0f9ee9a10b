#!/bin/bash
# session 43. PART=a: ResNet-50 trainers alone on the H200, time-sliced 1-3 and 3 under MPS, spin and block sync,
# --thread-calls and the launch timings (which launches are held, for how long, their place in the step: the
# launch-path sched_yield of time-sliced trainers). PART=b: bench calibrate --launch-queue-only, a probe's 2,000 launches
# beside a time-sliced GEMM spinner (cuda and sim), trainers 2-3 time-sliced (cuda and sim), service-beside-trainers' model
# half (SBT=0: not); PART=c: the services, arbiter and mps-neighbours model halves; PART=d: a request after its context ran
# dry 0-3 ms beside a time-sliced spinner (bench idle); PART=e: isolated, service-gpu-time, replay, cold-starts model halves.
set -u
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
export NCCL_NVLS_ENABLE=0
R=$PWD; W=/tmp/s43; mkdir -p $W/out $W/new; cd $W
[ -x new/contention ] || xz -dc $R/gpu-carry/fid.txz | tar -C new -xf -
echo "build $(cat $R/gpu-carry/fid.commit) part ${PART:-a}"
export CONTENTION_CTRACE=$W/new/contention-ctrace
mkdir -p mixes/validation; cp $R/mixes/validation/*.yaml mixes/validation/
cp $R/gpu-carry/*.py $W/ 2>/dev/null
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
pack() { find $W/out -path '*points*' -type f ! -name results.json ! -name tenants.csv ! -name thread_syscalls.csv -delete 2>/dev/null; tar -C $W -cf - out | xz -T8 -3 > $OUT/s43$P.txz; }
half() { mkdir -p $W/out/ht/$1; CONTENTION_HOST_TIMINGS=${HT:-} timeout $2 $C run mixes/validation/$1.yaml --device sim --sim-profile h200 --out $W/out/sim/$1 > $W/out/sim-$1.log 2>&1; echo "$1 sim rc $?"; pack; }
trainers() {
  for d in ${DEVS:-cuda}; do for s in ${SYNCS:-block spin}; do for c in ${CONFS:-ts-1 ts-2 ts-3 mps-3}; do
    sh=${c%-*}; n=${c#*-}; [ $sh = ts ] && sh=timeslice
    y=$W/t-$d-$sh-$s-$n.yaml
    printf 'name: trainers\nwarmup: 1s\nduration: 4s\nsharing: %s\ndefaults:\n  device: %s\n  sync: %s\ntenants:\n  - name: train\n    kind: training\n    model: resnet50\n    batch: 32\n    replicas: %s\n' $sh $d $s $n > $y
    H=$W/out/ht/$d-$sh-$s-$n; mkdir -p $H
    CONTENTION_HOST_TIMINGS=$H timeout 60 $C run $y --device $d --sim-profile ${SP:-h200} --thread-calls --out $W/out/t/$d-$sh-$s-$n > $W/out/t-$d-$sh-$s-$n.log 2>&1; echo "$d $sh $s $n rc $?"
  done; done; done; pack
  for h in $W/out/ht/*-*-*-*; do echo "== $(basename $h)"; python3 $W/launch-timings.py $h 2>&1 | tail -6; done
  python3 - <<'PY'
import csv,glob,collections
for f in sorted(glob.glob('/tmp/s43/out/t/*/thread_syscalls.csv')):
    t=[r for r in csv.DictReader(open(f.replace('thread_syscalls','tenants'))) if r['phase']=='measure']
    steps=sum(float(r['completed']) for r in t)
    y=collections.Counter()
    for r in csv.DictReader(open(f)):
        if r['phase']=='measure' and r['syscall'] in ('sched_yield','futex','ioctl','poll','clock_nanosleep'):
            y[(r['thread'].split('-')[0] if r['thread'].startswith('tenant') else r['thread'], r['syscall'])]+=int(r['count'])
    print(f.split('/')[-2], 'steps %d'%steps, ' '.join('%s/%s=%.1f'%(k[0],k[1],v/max(steps,1)) for k,v in sorted(y.items(), key=lambda kv:-kv[1])[:6]))
PY
}
if [ $P = a ]; then
  trainers
elif [ $P = b ]; then
  timeout 60 $C bench calibrate --launch-queue-only --base ${SP:-h200} --out $W/out/lq.json > $W/out/lq.log 2>&1; echo "launch queue rc $?"; cat $W/out/lq.log | tail -12
  # the launch queue of a context the GPU is not running: 2,000 tiny launches a step beside a time-sliced GEMM spinner
  for d in cuda sim; do
    printf 'name: qdepth\nwarmup: 1s\nduration: 3s\nsharing: timeslice\ndefaults:\n  device: %s\n  sync: spin\ntenants:\n  - name: hog\n    kind: microbench\n    op: gemm\n    bytes: 192MiB\n    iterations: 1\n  - name: probe\n    kind: microbench\n    op: elementwise\n    bytes: 4KiB\n    iterations: 2000\n' $d > $W/q-$d.yaml
    H=$W/out/ht/q-$d; mkdir -p $H
    CONTENTION_HOST_TIMINGS=$H timeout 40 $C run $W/q-$d.yaml --device $d --sim-profile ${SP:-h200} --ebpf off --out $W/out/q/$d > $W/out/q-$d.log 2>&1; echo "qdepth $d rc $?"
    python3 $W/launch-timings.py $H 2>&1 | tail -3
  done
  DEVS="cuda sim" CONFS="ts-2 ts-3" trainers
  [ "${SBT:-1}" = 1 ] && HT=$W/out/ht/sbt half service-beside-trainers 190
elif [ $P = d ]; then
  # A context that ran dry for G beside a time-sliced GEMM spinner: does its next request wait for the spinner's slice
  # (2.06 ms), as a probe's does back to back, or keep the GPU, as the trainers' steps mostly do (session 43)?
  printf 'name: hog\nwarmup: 1s\nduration: 40s\nsharing: timeslice\ndefaults:\n  device: cuda\n  sync: spin\ntenants:\n  - name: hog\n    kind: microbench\n    op: gemm\n    bytes: 192MiB\n    iterations: 1\n' > $W/hog.yaml
  $C run $W/hog.yaml --ebpf off --out $W/out/hog > $W/out/hog.log 2>&1 & hog=$!
  sleep 10
  for s in spin block; do
    timeout 60 $C bench idle --device cuda:0 --sync $s --idle spin,sleep --gaps 0,10us,30us,100us,300us,1ms,3ms --seconds 1 --json $W/out/dry-$s.json > $W/out/dry-$s.log 2>&1; echo "dry $s rc $?"; tail -20 $W/out/dry-$s.log
  done
  kill $hog; wait $hog
elif [ $P = c ]; then
  half services 150; half arbiter 200; half mps-neighbours 110
elif [ $P = e ]; then
  mkdir -p docs/results/h200/replay; cp $R/gpu-carry/resnet50-train-b32.ktrace.json.gz docs/results/h200/replay/
  half isolated 230; half service-gpu-time 120; half mps-neighbours 110; half replay 80; half cold-starts 190
fi
pack
python3 - <<'PY'
import glob,json
for f in sorted(glob.glob('/tmp/s43/out/sim/*/sweep.json')):
    runs=json.load(open(f))['runs']
    bad=[r['id'] for r in runs if r.get('invalid')]
    print('/'.join(f.split('/')[-2:-1]), len(runs), 'runs;', len(bad), 'invalid', [str(r.get('invalid'))[:70] for r in runs if r.get('invalid')][:3])
PY
