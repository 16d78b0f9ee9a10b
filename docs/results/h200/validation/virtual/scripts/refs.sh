#!/bin/bash
# The real-time model's references again after the bandwidth-share and launch-CPU fixes: the probes and the 30 services (or, with "sbt", the service beside trainers).
D=/tmp/c; mkdir -p $D; xz -dc gpu-carry/trim.xz > $D/contention; chmod +x $D/contention; C=$D/contention
S=$(date +%s); mkdir -p /tmp/r/model
M=docs/results/h200/validation/virtual/reference-phases/mixes
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
