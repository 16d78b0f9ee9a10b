#!/bin/bash
# What an idle gap costs the next request: bench idle on the real H200 (time-sliced and MPS) and on the real-time model.
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64 NCCL_NVLS_ENABLE=0
D=/tmp/c; mkdir -p $D; xz -dc gpu-carry/trim.xz > $D/contention; chmod +x $D/contention; C=$D/contention
R=$OUT/r; mkdir -p $R; S=$(date +%s)
grep -E '^cpu ' /proc/stat > $R/stat-begin.txt
$C devices --check > $R/check.log 2>&1; echo "check rc=$? at $(( $(date +%s) - S )) s"; tail -6 $R/check.log
b() { n=$1; shift; $C bench idle "$@" --json $R/$n.json > $R/$n.txt 2>&1; echo "$n rc=$? at $(( $(date +%s) - S )) s"; tar -cJf $OUT/idle.txz -C $OUT r; }
b cuda-ts-block --device cuda:0 --sync block
b cuda-ts-spin --device cuda:0 --sync spin --idle sleep
b cuda-ts-resnet --device cuda:0 --sync block --model resnet50 --gaps 0,1ms,20ms --idle sleep
export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps/pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps/log
mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
/usr/local/nvidia/bin/nvidia-cuda-mps-control -d; sleep 1
b cuda-mps-block --device cuda:0 --sync block
echo quit | /usr/local/nvidia/bin/nvidia-cuda-mps-control; sleep 2
unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
b sim-ts-block --device sim:0 --sync block --sim-profile h200
b sim-mps-block --device sim:0 --sync block --sim-profile h200 --sharing mps
grep -E '^cpu ' /proc/stat > $R/stat-end.txt; tar -cJf $OUT/idle.txz -C $OUT r
pgrep -a nvidia-cuda-mps || echo "no MPS daemon left"
cat $R/stat-begin.txt $R/stat-end.txt
for f in cuda-ts-block cuda-ts-spin cuda-ts-resnet cuda-mps-block sim-ts-block sim-mps-block; do echo "== $f"; grep -v '^ *$' $R/$f.txt | sed -n '1p;4,20p' | cut -c1-150; done
