#!/bin/bash
# session 37: the kernel timer's hold (a timed batch runs once its kernels are queued): devices --check,
# the mps-idle mix again, the isolated mix (one repetition) against its committed real half
set -u
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
export NCCL_NVLS_ENABLE=0
R=$PWD; W=/tmp/s37c; mkdir -p $W/out; cd $W
[ -x contention ] || xz -dc $R/gpu-carry/fid.txz | tar -xf -
echo "build $(cat $R/gpu-carry/fid.commit)"
mkdir -p mixes/validation; cp $R/gpu-carry/mps-idle.yaml mixes/; cp $R/mixes/validation/*.yaml mixes/validation/
python3 - <<'PY' || exit 3
import time,os
def cpu():
    f=[int(x) for x in open('/proc/stat').readline().split()[1:]]
    return sum(f), f[7]
a=cpu(); time.sleep(3); b=cpu()
share=100.0*(b[1]-a[1])/max(1,b[0]-a[0])
print('steal over 3 s: %.3f %%'%share)
raise SystemExit(0 if share < float(os.environ.get("MAX_STEAL","0.05")) else 1)
PY
pack() { find $W/out -path '*points*' -type f ! -name results.json ! -name tenants.csv -delete 2>/dev/null; tar -C $W -cf - out | xz -T8 -3 > $OUT/s37c.txz; }
timeout 150 ./contention devices --check > $W/out/check.txt 2>&1; echo "check rc $?"; grep -E "after the last|sampled against|agree" $W/out/check.txt | cut -c1-200
pack
timeout 150 ./contention run mixes/mps-idle.yaml --out $W/out/cuda/mps-idle > $W/out/mps-idle.log 2>&1; echo "mps-idle rc $?"
pack
timeout 200 ./contention run mixes/validation/isolated.yaml --repetitions 1 --out $W/out/cuda/isolated > $W/out/isolated.log 2>&1; echo "isolated rc $?"
pack
python3 - <<'PY'
import json,glob,csv,statistics as st
for f in sorted(glob.glob('/tmp/s37c/out/cuda/*/sweep.json')):
    runs=json.load(open(f))['runs']
    bad=[(r['id'],r.get('invalid')) for r in runs if r.get('invalid')]
    print(f.split('/')[-2], len(runs), 'runs;', len(bad), 'invalid:', [(b[0], str(b[1])[:60]) for b in bad][:8])
for f in sorted(glob.glob('/tmp/s37c/out/cuda/*/points/*/tenants.csv')):
    r=[x for x in csv.DictReader(open(f)) if x['phase']=='measure']
    g=lambda k: st.median(float(x[k] or 0) for x in r)
    done=sum(float(x['completed'] or 0) for x in r)
    print(f.split('/')[-4][:8], f.split('/')[-2][:10], r[0]['sharing'], r[0]['sync'], r[0]['tenant'], r[0].get('batch',''), len(r), 'ops %.1f p50 %.3f p99 %.3f gpu/op %.1f us'%(g('throughput_per_s'),g('p50_ms'),g('p99_ms'),1e6*sum(float(x['gpu_s'] or 0) for x in r)/max(1,done)))
PY
