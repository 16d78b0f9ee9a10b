#!/bin/bash
# The real-time model's references with the cheaper engine look and launch (binary gpu-carry/new.xz): the probes and the 30 services, or with "sbt" the service beside trainers.
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64 NCCL_NVLS_ENABLE=0
D=/tmp/c; mkdir -p $D; xz -dc gpu-carry/${BIN:-new}.xz > $D/contention; chmod +x $D/contention; C=$D/contention
S=$(date +%s); mkdir -p /tmp/r/model
python3 - <<'PY'
import time
g=[];end=time.perf_counter_ns()+3_000_000_000;last=time.perf_counter_ns();n=0
while last<end:
    t=time.perf_counter_ns();n+=1
    if t-last>1500: g.append(t-last)
    last=t
g.sort();print('jitter: %d loops in 3 s (%.0f ns each), %d gaps >1.5 us (%.0f/s), median %d p90 %d max %d ns'%(n,3e9/n,len(g),len(g)/3,g[len(g)//2] if g else 0,g[len(g)*9//10] if g else 0,g[-1] if g else 0))
PY
M=docs/results/h200/validation/virtual/reference-fixes/mixes
if [ "$1" = sbt ]; then list="service-beside-trainers"; extra="--repetitions ${2:-4}"; else list="timeslice-probes services"; extra=""; fi
for m in $list; do
  timeout -s INT ${LIMIT:-540} $C run $M/$m.yaml --device sim --sim-profile h200 $extra --out /tmp/r/model/$m > /tmp/r/$m.log 2>&1
  echo "$m rc=$? at $(( $(date +%s) - S )) s"; tail -2 /tmp/r/$m.log | cut -c1-160
done
for m in $list; do rm -rf /tmp/r/model/$m/points; done
tar -cJf $OUT/refs.txz -C /tmp r
python3 - <<'PY'
import csv,glob
for f in sorted(glob.glob('/tmp/r/model/*/tenants.csv')):
    print(f)
    for r in csv.DictReader(open(f)):
        if r['phase']=='measure' and r['tenant'] in ('probe','svc-0','infer'): print(' ', r['run'], r['sharing'], r['tenant'], r['run_state'], r['throughput_per_s'][:8], r['p50_ms'][:7], r['p99_ms'][:7], r['node_cpu_steal'][:6])
PY
pgrep -a nvidia-cuda-mps || echo "no MPS daemon left"
