#!/bin/bash
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64 NCCL_NVLS_ENABLE=0
D=/tmp/c; mkdir -p $D; xz -dc gpu-carry/new.xz > $D/contention; chmod +x $D/contention; C=$D/contention
S=$(date +%s)
timeout -s INT 200 $C run gpu-carry/mlp-clients.yaml --ebpf off --out /tmp/m/cuda > /tmp/m-cuda.log 2>&1; echo "cuda rc=$? at $(( $(date +%s) - S )) s"
rm -rf /tmp/m/*/points; tar -cJf $OUT/mlp.txz -C /tmp m m-cuda.log
python3 - <<'PY'
import csv
for r in csv.DictReader(open('/tmp/m/cuda/tenants.csv')):
    if r['phase']=='measure' and r['tenant'] in ('svc','svc-0'):
        t=float(r['throughput_per_s']); g=float(r['gpu_s'] or 0)/float(r['seconds'])
        print(r['run'], r['sharing'], r['tenant'], r['run_state'], '%.0f/s'%t, 'p50 %s p99 %s'%(r['p50_ms'][:6], r['p99_ms'][:6]), 'gpu us/request %.1f'%(g/t*1e6 if t else 0))
PY
pgrep -a nvidia-cuda-mps || echo "no MPS daemon left"
