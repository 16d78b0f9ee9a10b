#!/bin/bash
# session 38: devices --check (window estimate), then the real halves of service-gpu-time (new) and service-beside-trainers with the phase estimator (8f09f86)
set -u
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
export NCCL_NVLS_ENABLE=0
R=$PWD; W=/tmp/s38c; mkdir -p $W/out; cd $W
[ -x contention ] || xz -dc $R/gpu-carry/fid.txz | tar -xf -
echo "build $(cat $R/gpu-carry/fid.commit)"
mkdir -p mixes/validation; cp $R/mixes/validation/*.yaml mixes/validation/
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
pack() { find $W/out -path '*points*' -type f ! -name results.json ! -name tenants.csv -delete 2>/dev/null; tar -C $W -cf - out | xz -T8 -3 > $OUT/s38c.txz; }
pack
[ -n "${CHECK:-1}" ] && { timeout 150 ./contention devices --check > $W/out/check.txt 2>&1; echo "check rc $?"; grep -E "after the last|sampled against|agree" $W/out/check.txt | cut -c1-200; pack; }
for m in ${MIXES:-service-gpu-time service-beside-trainers}; do timeout 280 ./contention run mixes/validation/$m.yaml --out $W/out/cuda/$m > $W/out/$m.log 2>&1; echo "$m rc $?"; pack; done
pack
python3 - <<'PY'
import json,glob,csv,statistics as st
for f in sorted(glob.glob('/tmp/s38c/out/cuda/*/sweep.json')):
    runs=json.load(open(f))['runs']
    bad=[(r['id'],r.get('invalid')) for r in runs if r.get('invalid')]
    print(f.split('/')[-2], len(runs), 'runs;', len(bad), 'invalid:', [(b[0], str(b[1])[:60]) for b in bad][:8])
for f in sorted(glob.glob('/tmp/s38c/out/cuda/*/points/*/tenants.csv')):
    r=[x for x in csv.DictReader(open(f)) if x['phase']=='measure']
    by={}
    for x in r: by.setdefault(x['tenant'].rstrip('0123456789-'),[]).append(x)
    for t,xs in by.items():
        g=lambda k: st.median(float(x[k] or 0) for x in xs)
        done=sum(float(x['completed'] or 0) for x in xs)
        print(f.split('/')[-2][:12], xs[0]['sharing'], t, len(xs), 'ops %.1f p50 %.3f p99 %.3f gpu/op %.1f us timed %s'%(g('throughput_per_s'),g('p50_ms'),g('p99_ms'),1e6*sum(float(x['gpu_s'] or 0) for x in xs)/max(1,done), [x.get('gpu_timed_batches') for x in xs]))
PY
