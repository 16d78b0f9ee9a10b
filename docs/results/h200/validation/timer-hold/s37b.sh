#!/bin/bash
# session 37: where a light MPS service's extra GPU time a request lies (gpu-carry/mps-idle.yaml: spin
# against block, time-sliced against MPS), and bench idle as an MPS client with a spinning wait
set -u
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
export NCCL_NVLS_ENABLE=0
R=$PWD; W=/tmp/s37b; mkdir -p $W/out; cd $W
[ -x contention ] || xz -dc $R/gpu-carry/fid.txz | tar -xf -
echo "build $(cat $R/gpu-carry/fid.commit)"
mkdir -p mixes; cp $R/gpu-carry/mps-idle.yaml mixes/
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
pack() { find $W/out -path '*points*' -type f ! -name results.json ! -name tenants.csv -delete 2>/dev/null; tar -C $W -cf - out | xz -T8 -3 > $OUT/s37b.txz; }
timeout 200 ./contention run mixes/mps-idle.yaml --out $W/out/cuda/mps-idle > $W/out/mps-idle.log 2>&1; echo "run rc $?"
pack
export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps37/pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps37/log
mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
/usr/local/nvidia/bin/nvidia-cuda-mps-control -d; sleep 1
for s in spin block; do
  timeout 60 ./contention bench idle --device cuda:0 --sync $s --idle sleep,spin --gaps 0,1ms,20ms --seconds 2 --json $W/out/idle-mps-$s.json > $W/out/idle-mps-$s.txt 2>&1; echo "idle mps $s rc $?"
done
echo quit | /usr/local/nvidia/bin/nvidia-cuda-mps-control; sleep 2
unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
timeout 60 ./contention bench idle --device cuda:0 --sync spin --idle sleep,spin --gaps 0,1ms,20ms --seconds 2 --json $W/out/idle-ts-spin.json > $W/out/idle-ts-spin.txt 2>&1; echo "idle ts spin rc $?"
pack
pgrep -a nvidia-cuda-mps || echo "no MPS daemon left"
python3 - <<'PY'
import json,glob,csv,statistics as st
for f in sorted(glob.glob('/tmp/s37b/out/cuda/*/sweep.json')):
    runs=json.load(open(f))['runs']
    bad=[(r['id'],r.get('invalid')) for r in runs if r.get('invalid')]
    print(f.split('/')[-2], len(runs), 'runs;', len(bad), 'invalid:', [(b[0], str(b[1])[:60]) for b in bad][:8])
for f in sorted(glob.glob('/tmp/s37b/out/cuda/*/points/*/tenants.csv')):
    r=[x for x in csv.DictReader(open(f)) if x['phase']=='measure']
    g=lambda k: st.median(float(x[k] or 0) for x in r)
    done=sum(float(x['completed'] or 0) for x in r)
    print(f.split('/')[-2][:10], r[0]['sharing'], r[0]['sync'], len(r), 'ops %.1f p50 %.3f p99 %.3f gpu/op %.1f us'%(g('throughput_per_s'),g('p50_ms'),g('p99_ms'),1e6*sum(float(x['gpu_s'] or 0) for x in r)/max(1,done)))
PY
for f in /tmp/s37b/out/idle-*.txt; do echo "== $f"; tail -12 $f | cut -c1-160; done
