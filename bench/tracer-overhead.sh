#!/bin/bash
# The eBPF tracer's overhead on a system-call storm (docs/tracer.md, "Overhead"): builds the
# helper and the storm program, then runs `contention bench tracer` as root: getppid-storm
# untraced, under the helper (empty programs, counts, full, exact) and under strace -f -c, interleaved,
# medians. Arguments go to the bench command, e.g. --repetitions 9 --json overhead.json.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s -C tracer/native
dotnet build client/Contention.Client -c Release -v q -nologo
exec dotnet client/Contention.Client/bin/Release/net10.0/contention.dll bench tracer "$@"
