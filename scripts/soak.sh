#!/usr/bin/env bash
# The soak (issue 10): mixes/soak.yaml — 300 one-second runs — on one embedded node, sampling that
# node (the contention process) every 5 s: finished runs, resident memory, open files, its
# /metrics series and /dev/shm files. Prints the means over the middle third of the runs against
# those over the last third; each must be within 10 %. Usage: scripts/soak.sh [OUT_DIR]
# (about 12 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/contention-soak}
port=${SOAK_METRICS_PORT:-9477}
bin=client/Contention.Client/bin/Release/net10.0/contention
[ -x "$bin" ] || dotnet build client/Contention.Client -c Release -v q
rm -rf "$out" "$out.samples" "$out.log"
# Series stop changing when their run ends: 60 s retention keeps about the last 20 runs' series.
"$bin" run mixes/soak.yaml --out "$out" --metrics-port "$port" --metrics-retention 60s --ebpf off > "$out.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
echo "time finished rss_kib open_files series shm_files" > "$out.samples"
while kill -0 "$pid" 2>/dev/null; do
  finished=$(python3 -c "import json; m=json.load(open('$out/sweep.json')); print(sum(r['state'] not in ('Pending','Running') for r in m['runs']))" 2>/dev/null || echo 0)
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  files=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
  series=$(curl -sf "http://127.0.0.1:$port/metrics" | grep -c '^contention_' || true)
  shm=$(ls /dev/shm | grep -c "^contention-sim" || true)
  echo "$(date +%s) $finished $rss $files $series $shm" >> "$out.samples"
  sleep 5
done
wait "$pid" && status=0 || status=$?
trap - EXIT
python3 - "$out.samples" "$status" <<'PY'
import statistics, sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]).read().splitlines()[1:]]
rows = [r for r in rows if r[2] > 0]
runs = rows[-1][1]
# Series come and go in batches (the retention reaper), so compare windows, not single samples:
# the middle third of the runs against the last third. The first third warms the process up (JIT
# tiering, the GC sizing its heap, the reaper's first period); its samples are printed too.
third = runs // 3
warm = [r for r in rows if r[1] < third]
first = [r for r in rows if third <= r[1] < 2 * third]
last = [r for r in rows if r[1] >= 2 * third]
print(f"contention exit {sys.argv[2]}; runs finished: {runs}; samples: {len(rows)} every 5 s")
print(f"{'window':<16}{'samples':>8}{'rss MiB':>10}{'open files':>12}{'series':>8}{'/dev/shm':>10}")
def mean(window, i): return statistics.mean(r[i] for r in window)
for name, window in ((f"runs 0-{third}", warm), (f"runs {third}-{2 * third}", first), (f"runs {2 * third}-{runs}", last)):
    print(f"{name:<16}{len(window):>8}{mean(window, 2) / 1024:>10.1f}{mean(window, 3):>12.1f}{mean(window, 4):>8.0f}{mean(window, 5):>10.1f}")
for i, name in ((2, "rss"), (3, "open files"), (4, "series"), (5, "/dev/shm files")):
    a, b = mean(first, i), mean(last, i)
    change = (b - a) / a if a else 0
    print(f"{name}: {change * 100:+.1f} % {'ok' if abs(change) <= 0.10 else 'OVER 10 %'} (min-max over the last window: {min(r[i] for r in last)}-{max(r[i] for r in last)})")
PY
