#!/bin/bash
# session 44 (s43.sh, PART=d also beside a ResNet-50 trainer; the hog runs 90 s). PART=a: ResNet-50 trainers alone on the H200, time-sliced 1-3 and 3 under MPS, spin and block sync,
# --thread-calls and the launch timings (which launches are held, for how long, their place in the step: the
# launch-path sched_yield of time-sliced trainers). PART=b: bench calibrate --launch-queue-only, a probe's 2,000 launches
# beside a time-sliced GEMM spinner (cuda and sim), trainers 2-3 time-sliced (cuda and sim), service-beside-trainers' model
# half (SBT=0: not); PART=c: the services, arbiter and mps-neighbours model halves; PART=d: a request after its context ran
# dry 0-3 ms beside a time-sliced spinner (bench idle); PART=e: isolated, service-gpu-time, replay, cold-starts model halves.
set -u
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
export NCCL_NVLS_ENABLE=0
R=$PWD; W=/tmp/s44; mkdir -p $W/out $W/new; cd $W
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
pack() { find $W/out -path '*points*' -type f ! -name results.json ! -name tenants.csv ! -name thread_syscalls.csv -delete 2>/dev/null; tar -C $W -cf - out | xz -T8 -3 > $OUT/s44$P.txz; }
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
for f in sorted(glob.glob('/tmp/s44/out/t/*/thread_syscalls.csv')):
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
  # A context that ran dry for G beside a time-sliced GEMM spinner, then beside a ResNet-50 trainer (spin): does its next
  # request wait for the other's slice (2.06 ms), as a probe's does back to back, or keep the GPU, as the trainers' steps
  # mostly do (session 43)?
  for hk in gemm train; do
    if [ $hk = gemm ]; then tn='kind: microbench\n    op: gemm\n    bytes: 192MiB\n    iterations: 1'; else tn='kind: training\n    model: resnet50\n    batch: 32'; fi
    printf "name: hog\nwarmup: 1s\nduration: 90s\nsharing: timeslice\ndefaults:\n  device: cuda\n  sync: spin\ntenants:\n  - name: hog\n    $tn\n" > $W/hog-$hk.yaml
    $C run $W/hog-$hk.yaml --ebpf off --out $W/out/hog-$hk > $W/out/hog-$hk.log 2>&1 & hog=$!
    sleep 8
    for s in ${DSYNCS:-spin block}; do
      [ $hk = train ] && [ $s = block ] && continue
      timeout 60 $C bench idle --device cuda:0 --sync $s --idle spin,sleep --gaps 0,10us,30us,100us,300us,1ms,3ms --seconds 1 --json $W/out/dry-$hk-$s.json > $W/out/dry-$hk-$s.log 2>&1; echo "dry $hk $s rc $?"; tail -18 $W/out/dry-$hk-$s.log
    done
    kill -INT $hog; sleep 3; kill $hog 2>/dev/null; wait $hog
  done
elif [ $P = g ]; then
  # (1) the launch queue with the 512^3 GEMM (a memset and a kernel); a probe's 2,000 launches a step beside two
  # time-sliced GEMM spinners, element-wise 4 KiB and GEMM 512^3: held at 320 once a slice has passed, as the trainers'
  # are, or at the ring? (2) a request after its context ran dry 1-20 ms beside a time-sliced ResNet-50 trainer and a
  # GEMM spinner (spin). A longer PART=f (a 32^3 probe too, one spinner, sleeping gaps) was written but never ran.
  timeout 60 $C bench calibrate --launch-queue-only --base ${SP:-h200} --out $W/out/lqf.json > $W/out/lqf.log 2>&1; echo "launch queue rc $?"; tail -9 $W/out/lqf.log; pack
  for k in elementwise:4KiB gemm:3MiB; do
    op=${k%:*}; b=${k#*:}
    printf 'name: q2\nwarmup: 1s\nduration: 2s\nsharing: timeslice\ndefaults:\n  device: cuda\n  sync: spin\ntenants:\n  - name: hog\n    kind: microbench\n    op: gemm\n    bytes: 192MiB\n    iterations: 1\n    replicas: 2\n  - name: probe\n    kind: microbench\n    op: %s\n    bytes: %s\n    iterations: 2000\n' $op $b > $W/q2-$op-$b.yaml
    H=$W/out/ht/q2-$op-$b; mkdir -p $H
    CONTENTION_HOST_TIMINGS=$H timeout 30 $C run $W/q2-$op-$b.yaml --ebpf off --out $W/out/q2/$op-$b > $W/out/q2-$op-$b.log 2>&1; echo "q2 $op $b rc $?"
    python3 $W/launch-timings.py $H 2>&1 | tail -4; pack
  done
  for hk in train gemm; do
    if [ $hk = gemm ]; then tn='kind: microbench\n    op: gemm\n    bytes: 192MiB\n    iterations: 1'; else tn='kind: training\n    model: resnet50\n    batch: 32'; fi
    printf "name: hog\nwarmup: 1s\nduration: 90s\nsharing: timeslice\ndefaults:\n  device: cuda\n  sync: spin\ntenants:\n  - name: hog\n    $tn\n" > $W/hog-$hk.yaml
    $C run $W/hog-$hk.yaml --ebpf off --out $W/out/hogf-$hk > $W/out/hogf-$hk.log 2>&1 & hog=$!
    sleep 6
    timeout 40 $C bench idle --device cuda:0 --sync spin --idle spin --gaps 1ms,1500us,2ms,2500us,3ms,4ms,5ms,7ms,10ms,20ms --seconds 0.6 --json $W/out/long-$hk.json > $W/out/long-$hk.log 2>&1; echo "long $hk rc $?"; tail -14 $W/out/long-$hk.log; pack
    kill -INT $hog; sleep 2; kill $hog 2>/dev/null; wait $hog
  done
elif [ $P = c ]; then
  half services 150; half arbiter 200; half mps-neighbours 110
elif [ $P = e ]; then
  mkdir -p docs/results/h200/replay; cp $R/gpu-carry/resnet50-train-b32.ktrace.json.gz docs/results/h200/replay/
  half isolated 230; half service-gpu-time 120; half mps-neighbours 110; half replay 80; half cold-starts 190
fi
pack
python3 - <<'PY'
import glob,json
for f in sorted(glob.glob('/tmp/s44/out/sim/*/sweep.json')):
    runs=json.load(open(f))['runs']
    bad=[r['id'] for r in runs if r.get('invalid')]
    print('/'.join(f.split('/')[-2:-1]), len(runs), 'runs;', len(bad), 'invalid', [str(r.get('invalid'))[:70] for r in runs if r.get('invalid')][:3])
PY
