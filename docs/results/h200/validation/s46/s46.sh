#!/bin/bash
# session 46: the model halves of the validation suite on the H200's host (build in gpu-carry/fid.commit). HALVES names
# the halves to run (mixes/validation/NAME.yaml, each with its time limit NAME:SECONDS); a half that would end after
# BUDGET seconds is left for the next call (printed "left NAME"). On a host without an H200 (the model halves would not
# compare with the H200's real ones) it runs instead, with SVC=1, the 30 light services' real half with every worker
# thread's calls counted (--thread-calls: which thread makes the kernel time the model lacks, and which ioctls), and
# unless EVT=0 three block-synchronised MLP services while evtpoll.py reads what their cuda-EvtHandlr threads wait in.
set -u
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
export NCCL_NVLS_ENABLE=0
R=$PWD; W=/tmp/s46; mkdir -p $W/out $W/new; cd $W
T0=$(date +%s)
[ -x new/contention ] || xz -dc $R/gpu-carry/fid.txz | tar -C new -xf -
echo "build $(cat $R/gpu-carry/fid.commit | cut -c1-7) tag ${TAG:-x}"
export CONTENTION_CTRACE=$W/new/contention-ctrace
mkdir -p mixes/validation docs/results/h200/replay; cp $R/mixes/validation/*.yaml mixes/validation/
cp $R/gpu-carry/resnet50-train-b32.ktrace.json.gz docs/results/h200/replay/
C=$W/new/contention
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader); nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
pack() { find $W/out -path '*points*' -type f ! -name results.json ! -name tenants.csv ! -name ioctls.csv ! -name thread_syscalls.csv ! -name threads.csv -delete 2>/dev/null; tar -C $W -cf - out | xz -T8 -3 > $OUT/s46${TAG:-x}.txz; }
if ! echo "$GPU" | grep -q H200; then
  if [ "${SVC:-0}" = 1 ]; then
    t=$(date +%s); timeout 240 $C run mixes/validation/services.yaml --device cuda --thread-calls --out $W/out/real/services > $W/out/real-services.log 2>&1
    echo "services real (not an H200) rc $? in $(( $(date +%s) - t )) s"; pack
  fi
  if [ "${EVT:-1}" = 1 ]; then
    printf 'name: evt\nwarmup: 2s\nduration: 8s\ndefaults:\n  device: cuda\n  sync: block\ntenants:\n  - name: svc\n    kind: inference\n    model: mlp\n    batch: 1\n    rate: 50\n    replicas: 3\n' > evt.yaml
    timeout 120 $C run evt.yaml --device cuda --out $W/out/evt > $W/out/evt.log 2>&1 & r=$!
    sleep 12; timeout 60 python3 $R/gpu-carry/evtpoll.py 6 > $W/out/evtpoll.txt 2>&1; wait $r; echo "evt rc $?"; head -12 $W/out/evtpoll.txt; pack
  fi
  HALVES=""
fi
for h in ${HALVES:-}; do
  n=${h%:*}; s=${h#*:}
  if [ $(( $(date +%s) - T0 + s )) -gt ${BUDGET:-560} ]; then echo "left $n"; continue; fi
  x=""; [ $n = services ] && x=--thread-calls
  t=$(date +%s); timeout $s $C run mixes/validation/$n.yaml --device sim --sim-profile h200 $x --out $W/out/sim/$n > $W/out/sim-$n.log 2>&1; echo "$n sim rc $? in $(( $(date +%s) - t )) s"; pack
done
pack
python3 - <<'PY'
import glob,json
for f in sorted(glob.glob('/tmp/s46/out/*/*/sweep.json')):
    runs=json.load(open(f))['runs']
    bad=[r for r in runs if r.get('invalid')]
    print(f.split('/')[-3], f.split('/')[-2], len(runs), 'runs;', len(bad), 'invalid', [str(r.get('invalid'))[:70] for r in bad][:3])
PY
