#!/bin/bash
# session 37: service-beside-trainers' real half again (the committed one, 2026-12-01, predates the
# tiered-compilation fix), then the MPS scaling probe (gpu-carry/mps-scale.yaml)
set -u
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
export NCCL_NVLS_ENABLE=0
R=$PWD; W=/tmp/s37; mkdir -p $W/out; cd $W
[ -x contention ] || xz -dc $R/gpu-carry/fid.txz | tar -xf -
echo "build $(cat $R/gpu-carry/fid.commit)"
mkdir -p mixes/validation; cp $R/mixes/validation/*.yaml mixes/validation/; cp $R/gpu-carry/mps-scale.yaml mixes/
nvidia-smi --query-gpu=name,driver_version,compute_mode --format=csv,noheader
python3 - <<'PY' || exit 3
import time,os
def cpu():
    f=[int(x) for x in open('/proc/stat').readline().split()[1:]]
    return sum(f), f[7]
a=cpu(); time.sleep(5); b=cpu()
share=100.0*(b[1]-a[1])/max(1,b[0]-a[0])
print('steal over 5 s: %.3f %%'%share)
raise SystemExit(0 if share < float(os.environ.get("MAX_STEAL","0.05")) else 1)
PY
pack() { find $W/out -path '*points*' -type f ! -name results.json ! -name tenants.csv -delete 2>/dev/null; tar -C $W -cf - out | xz -T8 -3 > $OUT/s37.txz; }
for m in ${RUNS:-validation/service-beside-trainers mps-scale}; do
  n=$(basename $m)
  echo "== $n $(date +%s)"
  timeout ${LIMIT1:-300} ./contention run mixes/$m.yaml --device cuda --out $W/out/cuda/$n > $W/out/$n.log 2>&1; echo "rc $? $(date +%s)"
  pack
done
python3 - <<'PY'
import json,glob,csv,statistics as st
for f in sorted(glob.glob('/tmp/s37/out/cuda/*/sweep.json')):
    runs=json.load(open(f))['runs']
    bad=[(r['id'],r.get('invalid')) for r in runs if r.get('invalid')]
    print(f.split('/')[-2], len(runs), 'runs;', len(bad), 'invalid:', [(b[0], str(b[1])[:80]) for b in bad][:8])
for f in sorted(glob.glob('/tmp/s37/out/cuda/*/points/*/tenants.csv')):
    r=[x for x in csv.DictReader(open(f)) if x['phase']=='measure']
    by={}
    for x in r: by.setdefault(x['tenant'].rstrip('0123456789-').rstrip('#'),[]).append(x)
    for t,xs in by.items():
        g=lambda k: st.median(float(x[k] or 0) for x in xs)
        done=sum(float(x['completed'] or 0) for x in xs)
        gpr=1e6*sum(float(x['gpu_s'] or 0) for x in xs)/max(1,done)
        print(f.split('/')[-3][:10], f.split('/')[-2][:14], xs[0]['sharing'], t, len(xs), 'ops %.1f p50 %.3f p99 %.3f gpu/op %.1f us'%(g('throughput_per_s'),g('p50_ms'),g('p99_ms'),gpr))
PY
