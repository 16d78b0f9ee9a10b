#!/bin/bash
# The open-loop validation mixes on the real-time model with the shipped h200 profile (idle costs with their spread).
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64 NCCL_NVLS_ENABLE=0
D=/tmp/c; mkdir -p $D; xz -dc gpu-carry/trim.xz > $D/contention; chmod +x $D/contention; C=$D/contention
R=$OUT/r; mkdir -p $R; S=$(date +%s)
grep -E '^cpu ' /proc/stat > $R/stat-begin.txt
M=docs/results/h200/validation/virtual/reference-idle/mixes
for m in services service-beside-trainers; do
  timeout -s INT 280 $C run $M/$m.yaml --device sim --sim-profile h200 --out /tmp/r/$m > $R/$m.log 2>&1
  echo "$m rc=$? at $(( $(date +%s) - S )) s"
  tar -cJf $OUT/model.txz -C /tmp r; tar -cJf $OUT/logs.txz -C $OUT r
done
grep -E '^cpu ' /proc/stat > $R/stat-end.txt; tar -cJf $OUT/logs.txz -C $OUT r
cat $R/stat-begin.txt $R/stat-end.txt; tail -n 2 $R/*.log | cut -c1-200
