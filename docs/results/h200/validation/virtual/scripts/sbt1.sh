#!/bin/bash
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64
D=/tmp/c; mkdir -p $D; xz -dc gpu-carry/trim.xz > $D/contention; chmod +x $D/contention; C=$D/contention
mkdir -p /tmp/h/t; S=$(date +%s)
CONTENTION_HOST_TIMINGS=/tmp/h/t timeout -s INT 200 $C run gpu-carry/sbt1.yaml --sim-profile h200 --out /tmp/h/run > /tmp/h/run.log 2>&1
echo "rc=$? at $(( $(date +%s) - S )) s"; tail -3 /tmp/h/run.log | cut -c1-200
ls /tmp/h/t | head -20
tar -cJf $OUT/h.txz -C /tmp h
