#!/bin/bash
# A calibration's round trips now include the idle costs: time-sliced and as an MPS client.
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64 NCCL_NVLS_ENABLE=0 PATH=$PATH:/usr/local/nvidia/bin
D=/tmp/c; mkdir -p $D; xz -dc gpu-carry/trim.xz > $D/contention; chmod +x $D/contention; C=$D/contention
R=$OUT/r; mkdir -p $R; S=$(date +%s)
timeout -s INT 470 $C bench calibrate --round-trips-only --mps --base h200 --out $R/calibrated.json > $R/calibrate.txt 2>&1
echo "calibrate rc=$? at $(( $(date +%s) - S )) s"
pgrep -a nvidia-cuda-mps || echo "no MPS daemon left"
tar -cJf $OUT/calib.txz -C $OUT r
grep -A9 'idle costs' $R/calibrate.txt | cut -c1-200
python3 -c "import json; p=json.load(open('$R/calibrated.json')); print([(c['sharing'],c['gapNs'],c['launchNs'],c['waitNs']) for c in p['idleCosts']])" 2>&1 | tail -2
