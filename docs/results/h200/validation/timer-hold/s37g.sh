#!/bin/bash
# session 37: the same as s37f.sh with the request on a high-priority stream (as the validation's service, priority 10): bench idle --time-kernels (every
# request's kernels timed, held until queued) alone and beside 1 and 3 trainers (bench co-run clients of the same
# private MPS daemon), then time-sliced alone and beside 1
set -u
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
export NCCL_NVLS_ENABLE=0
R=$PWD; W=/tmp/s37g; mkdir -p $W/out; cd $W
[ -x contention ] || xz -dc $R/gpu-carry/fid.txz | tar -xf -
echo "build $(cat $R/gpu-carry/fid.commit)"
pack() { tar -C $W -cf - out | xz -T8 -3 > $OUT/s37g.txz; }
idle() { timeout 90 ./contention bench idle $HI --device cuda:0 --sync block --idle sleep --gaps 0,20ms --seconds 2 --time-kernels --json $W/out/idle-$1.json > $W/out/idle-$1.txt 2>&1; echo "idle $1 rc $?"; pack; }
beside() { # $1 trainers, $2 name
  B=/tmp/bar-$2; rm -f $B $B.ready-*
  for i in $(seq $1); do ./contention bench co-run --device cuda:0 --steps 5000 --barrier $B > $W/out/corun-$2-$i.txt 2>&1 & done
  for t in $(seq 600); do [ $(ls $B.ready-* 2>/dev/null | wc -l) -ge $1 ] && break; sleep 0.2; done
  echo "$2: $(ls $B.ready-* 2>/dev/null | wc -l) of $1 trainers ready"; touch $B; sleep 2
  idle $2
  pkill -f "co-run" ; wait; sleep 1
}
export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps37g/pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps37g/log
mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
/usr/local/nvidia/bin/nvidia-cuda-mps-control -d; sleep 1
HI=--high-priority idle mps-hi-alone
HI=--high-priority beside 1 mps-hi-beside1
HI= beside 1 mps-beside1
HI=--high-priority beside 3 mps-hi-beside3
echo quit | /usr/local/nvidia/bin/nvidia-cuda-mps-control; sleep 2
unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
HI=--high-priority beside 1 ts-hi-beside1
pgrep -a nvidia-cuda-mps || echo "no MPS daemon left"
pgrep -af "co-run" || echo "no co-run left"
python3 - <<'PY'
import json,glob
def pct(v,p):
    v=sorted(v); 
    if not v: return float('nan')
    import math
    return v[max(0,min(len(v)-1,math.ceil(p/100*len(v))-1))]/1e3
for f in sorted(glob.glob('/tmp/s37g/out/idle-*.json')):
    d=json.load(open(f))
    for g in d['gaps']:
        k=g.get('kernelNs') or []; sp=g.get('spanNs') or []
        idx=[i for i in range(len(k)) if k[i]>=0 and sp[i]>=0]
        L=g['launchNs']; W=g['waitNs']
        print('%-22s gap %5.0f ms n %4d timed %4d | launch %6.1f wait %6.1f | kernels %6.1f span %6.1f beyond %6.1f (p50 us) | wait p99 %6.1f beyond p99 %6.1f'%(
            f.split('idle-')[1][:-5], g['gapNs']/1e6, len(L), len(idx), pct(L,50), pct(W,50),
            pct([k[i] for i in idx],50), pct([sp[i] for i in idx],50), pct([W[i]-sp[i] for i in idx],50), pct(W,99), pct([W[i]-sp[i] for i in idx],99)))
PY
