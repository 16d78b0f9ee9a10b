#!/bin/bash
# session 38: the validation's pairing, every request timed: the MLP request a normal-priority MPS client on a high-priority
# stream, beside 1-3 ResNet-50 trainers (bench co-run) that are below-normal clients (CUDA_MPS_CLIENT_PRIORITY=1, as the
# node starts them), and beside one equal-priority trainer again
set -u
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
export NCCL_NVLS_ENABLE=0
R=$PWD; W=/tmp/s38a; mkdir -p $W/out; cd $W
[ -x contention ] || xz -dc $R/gpu-carry/fid.txz | tar -xf -
echo "build $(cat $R/gpu-carry/fid.commit)"
pack() { tar -C $W -cf - out | xz -T8 -3 > $OUT/s38a.txz; }
idle() { CUDA_MPS_CLIENT_PRIORITY=0 timeout 90 ./contention bench idle --high-priority --device cuda:0 --sync block --idle sleep --gaps 0,20ms --seconds 2 --time-kernels --json $W/out/idle-$1.json > $W/out/idle-$1.txt 2>&1; echo "idle $1 rc $?"; pack; }
beside() { # $1 trainers, $2 name
  B=/tmp/bar-$2; rm -f $B $B.ready-*
  for i in $(seq $1); do CUDA_MPS_CLIENT_PRIORITY=${TRAINER_PRIORITY:-1} ./contention bench co-run --device cuda:0 --steps 5000 --barrier $B > $W/out/corun-$2-$i.txt 2>&1 & done
  for t in $(seq 600); do [ $(ls $B.ready-* 2>/dev/null | wc -l) -ge $1 ] && break; sleep 0.2; done
  echo "$2: $(ls $B.ready-* 2>/dev/null | wc -l) of $1 trainers ready"; touch $B; sleep 2
  idle $2
  pkill -f "co-run" ; wait; sleep 4
}
timeout 150 ./contention devices --check > $W/out/check.txt 2>&1; echo "check rc $?"; grep -E "after the last|sampled against|agree" $W/out/check.txt | cut -c1-200; pack
export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps38a/pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps38a/log
mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
/usr/local/nvidia/bin/nvidia-cuda-mps-control -d; sleep 1
beside 1 mps-low-beside1
beside 2 mps-low-beside2
beside 3 mps-low-beside3
TRAINER_PRIORITY=0 beside 1 mps-equal-beside1
echo quit | /usr/local/nvidia/bin/nvidia-cuda-mps-control; sleep 2
unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
pgrep -a nvidia-cuda-mps || echo "no MPS daemon left"
pgrep -af "co-run" || echo "no co-run left"
python3 - <<'PY'
import json,glob
def pct(v,p):
    v=sorted(v); 
    if not v: return float('nan')
    import math
    return v[max(0,min(len(v)-1,math.ceil(p/100*len(v))-1))]/1e3
for f in sorted(glob.glob('/tmp/s38a/out/idle-*.json')):
    d=json.load(open(f))
    for g in d['gaps']:
        k=g.get('kernelNs') or []; sp=g.get('spanNs') or []
        idx=[i for i in range(len(k)) if k[i]>=0 and sp[i]>=0]
        L=g['launchNs']; W=g['waitNs']
        print('%-22s gap %5.0f ms n %4d timed %4d | launch %6.1f wait %6.1f | kernels %6.1f span %6.1f beyond %6.1f (p50 us) | wait p99 %6.1f beyond p99 %6.1f'%(
            f.split('idle-')[1][:-5], g['gapNs']/1e6, len(L), len(idx), pct(L,50), pct(W,50),
            pct([k[i] for i in idx],50), pct([sp[i] for i in idx],50), pct([W[i]-sp[i] for i in idx],50), pct(W,99), pct([W[i]-sp[i] for i in idx],99)))
PY
