#!/bin/bash
# session 45: the model halves of the validation suite remade on the H200's host with the build of 6de233d (launch-queue
# depth 1,021, the time-slice rule of session 44), and bench calibrate --launch-queue-only on the H200. HALVES names the
# halves to run (mixes/validation/NAME.yaml, each with its time limit NAME:SECONDS); a half that would end after BUDGET
# seconds is left for the next call (printed "left NAME"). LQ=1: the launch-queue probe first.
set -u
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
export NCCL_NVLS_ENABLE=0
R=$PWD; W=/tmp/s45; mkdir -p $W/out $W/new; cd $W
T0=$(date +%s)
[ -x new/contention ] || xz -dc $R/gpu-carry/fid.txz | tar -C new -xf -
echo "build $(cat $R/gpu-carry/fid.commit | cut -c1-7) tag ${TAG:-x}"
export CONTENTION_CTRACE=$W/new/contention-ctrace
mkdir -p mixes/validation docs/results/h200/replay; cp $R/mixes/validation/*.yaml mixes/validation/
cp $R/gpu-carry/resnet50-train-b32.ktrace.json.gz docs/results/h200/replay/
C=$W/new/contention
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
if [ "${H200ONLY:-0}" = 1 ] && ! nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H200; then echo "not an H200: nothing run"; exit 0; fi
pack() { find $W/out -path '*points*' -type f ! -name results.json ! -name tenants.csv -delete 2>/dev/null; tar -C $W -cf - out | xz -T8 -3 > $OUT/s45${TAG:-x}.txz; }
if [ "${LQ:-0}" = 1 ]; then
  timeout 90 $C bench calibrate --launch-queue-only --base h200 --out $W/out/lq.json > $W/out/lq.log 2>&1; echo "launch queue rc $?"; tail -9 $W/out/lq.log; pack
fi
for h in ${HALVES:-}; do
  n=${h%:*}; s=${h#*:}
  if [ $(( $(date +%s) - T0 + s )) -gt ${BUDGET:-560} ]; then echo "left $n"; continue; fi
  t=$(date +%s); timeout $s $C run mixes/validation/$n.yaml --device sim --sim-profile h200 --out $W/out/sim/$n > $W/out/sim-$n.log 2>&1; echo "$n sim rc $? in $(( $(date +%s) - t )) s"; pack
done
pack
python3 - <<'PY'
import glob,json
for f in sorted(glob.glob('/tmp/s45/out/sim/*/sweep.json')):
    runs=json.load(open(f))['runs']
    bad=[r for r in runs if r.get('invalid')]
    print(f.split('/')[-2], len(runs), 'runs;', len(bad), 'invalid', [str(r.get('invalid'))[:70] for r in bad][:3])
PY
