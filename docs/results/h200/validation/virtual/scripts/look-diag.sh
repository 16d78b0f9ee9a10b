#!/bin/bash
# Where a 4 KiB spin probe's ~10 us operation goes on the real-time model (sync host timings), against cuda.
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64 NCCL_NVLS_ENABLE=0
S=$(date +%s)
cat /sys/devices/system/clocksource/clocksource0/current_clocksource; nproc
python3 -c "import time;n=10**6;t=time.perf_counter_ns();[time.monotonic_ns() for _ in range(n)];print('monotonic_ns python loop ns/call',(time.perf_counter_ns()-t)/n)"
for b in ${BINS:-base}; do
  D=/tmp/$b; mkdir -p $D; xz -dc gpu-carry/$b.xz > $D/contention; chmod +x $D/contention
  (sleep 12; ps -eLo pid,tid,pcpu,psr,comm,args | grep -E "sim-gpu|worker" | grep -v grep | cut -c1-150) &
  CONTENTION_HOST_TIMINGS=/tmp/t/$b timeout -s INT 90 $D/contention run gpu-carry/probe-alone.yaml --sim-profile h200 --out /tmp/r/$b > /tmp/r-$b.log 2>&1
  echo "$b sim rc=$? at $(( $(date +%s) - S )) s"
done
if [ -n "$CUDA" ]; then
  timeout -s INT 90 /tmp/base/contention run gpu-carry/probe-alone.yaml --device cuda --out /tmp/r/cuda > /tmp/r-cuda.log 2>&1
  echo "cuda rc=$? at $(( $(date +%s) - S )) s"
fi
for d in /tmp/r/*/; do rm -rf $d/points; done
tar -cJf $OUT/diag.txz -C /tmp r $(cd /tmp; ls r-*.log)
python3 gpu-carry/syncstats.py /tmp/t/*
for f in /tmp/r/*/tenants.csv; do echo $f; awk -F, 'NR==1{for(i=1;i<=NF;i++)h[$i]=i} NR>1 && $h["phase"]=="measure"{print "  ",$h["run"],$h["sharing"],$h["throughput_per_s"],$h["p50_ms"],$h["p99_ms"],$h["node_cpu_steal"]}' $f; done
pgrep -a nvidia-cuda-mps || echo "no MPS daemon left"
