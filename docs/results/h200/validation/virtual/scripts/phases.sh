#!/bin/bash
# The service beside trainers with start pauses and per-repetition seeds: the real-time model (8 repetitions), then the H200 (4), the trimmed single file.
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64 NCCL_NVLS_ENABLE=0
D=/tmp/c; mkdir -p $D; xz -dc gpu-carry/trim.xz > $D/contention; chmod +x $D/contention; C=$D/contention
R=$OUT/r; mkdir -p $R; S=$(date +%s)
M=docs/results/h200/validation/virtual/reference-phases/mixes/service-beside-trainers.yaml
grep -E '^cpu ' /proc/stat > $R/stat-begin.txt
if [ "$1" = model ]; then
  timeout -s INT 560 $C run $M --device sim --sim-profile h200 --out /tmp/r/model/service-beside-trainers > $R/model.log 2>&1
  echo "model rc=$? at $(( $(date +%s) - S )) s"
else
  # the node starts and quits a private MPS daemon for the mix's MPS points
  timeout -s INT 560 $C run $M --repetitions 4 --out /tmp/r/real/service-beside-trainers > $R/real.log 2>&1
  echo "real rc=$? at $(( $(date +%s) - S )) s"
  pgrep -a nvidia-cuda-mps || echo 'no MPS daemon left'
fi
grep -E '^cpu ' /proc/stat > $R/stat-end.txt
tar -cJf $OUT/results.txz -C /tmp r; tar -cJf $OUT/logs.txz -C $OUT r
tail -n 4 $R/*.log | cut -c1-220
python3 - <<'PY'
import csv,glob
for f in glob.glob('/tmp/r/*/service-beside-trainers/tenants.csv'):
    print(f)
    for r in csv.DictReader(open(f)):
        if r['phase']=='measure' and r['tenant']=='infer':
            print(' ',r['run'],r['train.replicas'],r['sharing'],r['run_state'],r['throughput_per_s'][:6],r['p50_ms'][:6],r['p99_ms'][:6],r['node_cpu_steal'][:6])
PY
