#!/bin/bash
# The H200's idle costs into the h200 profile (time-sliced, then MPS), then the open-loop validation mixes on the real-time model with it.
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64 NCCL_NVLS_ENABLE=0
D=/tmp/c; mkdir -p $D; xz -dc gpu-carry/trim.xz > $D/contention; chmod +x $D/contention; C=$D/contention
R=$OUT/r; mkdir -p $R; S=$(date +%s)
grep -E '^cpu ' /proc/stat > $R/stat-begin.txt
$C bench idle --device cuda:0 --sync block --idle sleep --base h200 --out $R/h200-ts.json --json $R/ts.json > $R/ts.txt 2>&1; echo "ts rc=$? at $(( $(date +%s) - S )) s"
export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps/pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps/log
mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
/usr/local/nvidia/bin/nvidia-cuda-mps-control -d; sleep 1
$C bench idle --device cuda:0 --sync block --idle sleep --base $R/h200-ts.json --out $R/h200-idle.json --json $R/mps.json > $R/mps.txt 2>&1; echo "mps rc=$? at $(( $(date +%s) - S )) s"
echo quit | /usr/local/nvidia/bin/nvidia-cuda-mps-control; sleep 2
unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
tar -cJf $OUT/idle2.txz -C $OUT r
M=docs/results/h200/validation/virtual/reference-more/mixes
for m in services service-beside-trainers; do
  timeout -s INT 280 $C run $M/$m.yaml --device sim --sim-profile $R/h200-idle.json --out /tmp/r/$m > $R/$m.log 2>&1
  echo "$m rc=$? at $(( $(date +%s) - S )) s"
  tar -cJf $OUT/model.txz -C /tmp r; tar -cJf $OUT/idle2.txz -C $OUT r
done
grep -E '^cpu ' /proc/stat > $R/stat-end.txt; tar -cJf $OUT/idle2.txz -C $OUT r
pgrep -a nvidia-cuda-mps || echo "no MPS daemon left"
cat $R/stat-begin.txt $R/stat-end.txt; tail -n 3 $R/ts.txt $R/mps.txt | cut -c1-250
