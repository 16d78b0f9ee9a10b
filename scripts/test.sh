#!/usr/bin/env bash
# Runs every test of Contention.sln on a fresh Debian 12 machine with the .NET 10 SDK.
# Installs what the tests need (Debian's prometheus, redis-server, strace and python3; the eBPF toolchain;
# NVIDIA's ptxas from Debian's non-free pool),
# builds the eBPF helper, checks code style, runs the tests, checks that the trimmed single file
# (docs/gpu.md) runs the default mix, and ends with the line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v strace >/dev/null 2>&1 || need_apt+=(strace)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)   # scripts/host-timings.py
command -v curl >/dev/null 2>&1 || need_apt+=(curl)   # fetches ptxas, below
[ -x /usr/bin/chromium ] || need_apt+=(chromium)   # the Orleans Dashboard test loads the page in headless Chromium
# The eBPF helper (tracer/native): clang, bpftool and static libbpf, libelf, zlib, zstd.
command -v clang-14 >/dev/null 2>&1 || need_apt+=(clang-14 llvm-14)
command -v bpftool >/dev/null 2>&1 || [ -x /usr/sbin/bpftool ] || need_apt+=(bpftool)
for lib in libbpf libelf libz libzstd; do
  [ -f "/usr/lib/x86_64-linux-gnu/$lib.a" ] || case $lib in
    libbpf) need_apt+=(libbpf-dev) ;; libelf) need_apt+=(libelf-dev) ;; libz) need_apt+=(zlib1g-dev) ;; libzstd) need_apt+=(libzstd-dev) ;;
  esac
done
command -v make >/dev/null 2>&1 || need_apt+=(make)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]} (Debian packages the tests use)"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq >/dev/null && \
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null || {
      echo "error: failed to install ${need_apt[*]} with apt-get; install them and run again" >&2
      exit 2
    }
fi

# NVIDIA's PTX assembler, so the tests assemble every kernel as the driver's JIT will on a GPU host
# (KernelCompilationTests): ptxas from Debian's non-free CUDA 11.8 toolkit package (NVIDIA's
# licence; nothing else of it is used), fetched once into the user's cache and checked by hash.
ptxas_deb=nvidia-cuda-toolkit_11.8.89~11.8.0-5~deb12u1_amd64.deb
ptxas_sha256=d1156026e704fe0368b6295db06224ed00a727966fb13454f34e3f3102db0457
ptxas_dir="${XDG_CACHE_HOME:-$HOME/.cache}/contention/cuda-11.8"
if [ -z "${CONTENTION_PTXAS:-}" ] && ! command -v ptxas >/dev/null 2>&1; then
  if [ ! -x "$ptxas_dir/ptxas" ]; then
    echo "fetching ptxas ($ptxas_deb, 84 MB, from deb.debian.org's non-free pool)"
    mkdir -p "$ptxas_dir" && fetch=$(mktemp -d) && \
      curl -fsSL --retry 3 -o "$fetch/toolkit.deb" "http://deb.debian.org/debian/pool/non-free/n/nvidia-cuda-toolkit/$ptxas_deb" && \
      echo "$ptxas_sha256  $fetch/toolkit.deb" | sha256sum -c --quiet && \
      dpkg-deb --fsys-tarfile "$fetch/toolkit.deb" | tar -xf - -C "$fetch" ./usr/bin/ptxas && \
      mv "$fetch/usr/bin/ptxas" "$ptxas_dir/ptxas" || \
      echo "note: ptxas could not be fetched: the test that assembles the kernels skips" >&2
    rm -rf "${fetch:-/nonexistent}"
  fi
  [ -x "$ptxas_dir/ptxas" ] && export CONTENTION_PTXAS="$ptxas_dir/ptxas"
fi

echo "== eBPF helper (make -C tracer/native)"
if [ -r /sys/kernel/btf/vmlinux ]; then
  make -s -C tracer/native || { echo "error: the eBPF helper did not build" >&2; echo "0 passed, 1 failed"; exit 1; }
else
  echo "no kernel BTF (/sys/kernel/btf/vmlinux): the eBPF helper is not built and its tests skip"
fi

echo "== build"
dotnet build Contention.sln -c Release -nologo -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }

echo "== code style (dotnet format --verify-no-changes)"
dotnet format Contention.sln --verify-no-changes --no-restore || { echo "error: code style: run 'dotnet format Contention.sln'" >&2; echo "0 passed, 1 failed"; exit 1; }

echo "== tests"
results=$(mktemp -d)
# --blame-crash: a test host that crashes leaves a mini dump and the list of tests it was running
# (printed below), so a crash seen once on a busy CI machine can be traced to its test.
dotnet test Contention.sln -c Release --no-build -nologo --blame-crash --blame-crash-dump-type mini --logger "trx" --results-directory "$results" -- RunConfiguration.TreatNoTestsAsError=true
status=$?
for sequence in $(find "$results" -name 'Sequence_*.xml' 2>/dev/null); do
  echo "a test host crashed; the tests it ran last (of $(grep -o '<Test ' "$sequence" | wc -l)), from $sequence:"
  grep -o 'Name="[^"]*"' "$sequence" | tail -3
  find "$(dirname "$sequence")" -name '*.dmp' -printf '  dump: %p (%s bytes)\n'
done

passed=0; failed=0; total=0; executed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  total=$((total + $(get total)))
  executed=$((executed + $(get executed)))
done
rm -rf "$results"

# The trimmed single file GPU hosts get (docs/gpu.md) must run the default mix and compile the CUDA
# kernels (ILGPU reads framework IL): one more test.
# A check's run of the default mix (exit code $1, results and run.log in $2, named $3): 4
# (completed but invalid) is what a loaded 2-core host can cause; anything else is a failure.
run_completed() {
  if [ "$1" -ne 0 ] && [ "$1" -ne 4 ] || ! grep -q '"state": "Completed"' "$2/run/results.json"; then
    echo "error: $3's run of the default mix ended $1:" >&2; tail -5 "$2/run.log" >&2; return 1
  fi
}

echo "== trimmed build runs the default mix and compiles the CUDA kernels"
trimmed=$(mktemp -d)
trimmed_check() {
  dotnet publish client/Contention.Client/Contention.Client.csproj -c Release -r linux-x64 --self-contained -nologo -clp:ErrorsOnly \
    -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:DebugType=none -p:ContentionReports=false \
    -p:PublishTrimmed=true -o "$trimmed/bin" >/dev/null || { echo "error: the trimmed build did not publish" >&2; return 1; }
  "$trimmed/bin/contention" run mixes/default.yaml --sync block --warmup 0s --duration 2s --ebpf off --out "$trimmed/run" >"$trimmed/run.log" 2>&1
  local code=$?
  run_completed $code "$trimmed" "the trimmed build" || return 1
  # ILGPU compiles kernels from framework IL: the trimmed file must still compile them (no GPU needed).
  if ! "$trimmed/bin/contention" devices --compile >"$trimmed/compile.log" 2>&1; then
    echo "error: the trimmed build cannot compile the CUDA kernels:" >&2; tail -3 "$trimmed/compile.log" >&2; return 1
  fi
  echo "trimmed build: $(du -m "$trimmed/bin/contention" | cut -f1) MB; the default mix completed (exit $code); its CUDA kernels compile to PTX"
}
total=$((total + 1)); executed=$((executed + 1))
if trimmed_check; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
rm -rf "$trimmed"

# The client as a .NET tool (README, "Install"): packed, installed in a tool path, and run from
# another directory against the default mix: one more test.
echo "== the .NET tool packs, installs and runs the default mix from another directory"
tool=$(mktemp -d)
tool_check() {
  dotnet pack client/Contention.Client/Contention.Client.csproj -c Release -nologo -clp:ErrorsOnly -o "$tool/feed" >/dev/null \
    || { echo "error: the tool did not pack" >&2; return 1; }
  dotnet tool install --tool-path "$tool/bin" --add-source "$tool/feed" contention-tool >"$tool/install.log" 2>&1 \
    || { echo "error: the tool did not install:" >&2; tail -3 "$tool/install.log" >&2; return 1; }
  local mix; mix="$(pwd)/mixes/default.yaml"
  (cd "$tool" && "$tool/bin/contention" run "$mix" --sync block --warmup 0s --duration 2s --ebpf off --out "$tool/run" >"$tool/run.log" 2>&1)
  local code=$?
  run_completed $code "$tool" "the installed tool" || return 1
  echo "tool: $(du -m "$tool"/feed/*.nupkg | cut -f1) MB package, $("$tool/bin/contention" --version); the default mix completed from $tool (exit $code)"
}
total=$((total + 1)); executed=$((executed + 1))
if tool_check; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
rm -rf "$tool"

skipped=$((total - executed))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
