#!/bin/bash
# Assembles the H200's own runs of the four mixes (committed elsewhere) under h200-real/ here,
# beside reference-lead/h200-mixes/ (the texts they ran), for the two validations against the H200:
#   bash reference-lead/h200-refs.sh          # from docs/results/h200/validation/virtual
#   contention validate reference-lead/h200-mixes --sim-profile h200 --reference h200-real --model reference-lead/model   --out model-vs-real-lead
#   contention validate reference-lead/h200-mixes --sim-profile h200 --reference h200-real --model reference-lead/virtual --out vs-real-lead
set -e
cd "$(dirname "$0")/.."
rm -rf h200-real && mkdir -p h200-real
tar -xzf ../../probes/raw.tgz -C h200-real && mv h200-real/probes h200-real/timeslice-probes
cp -r reference-phases/real/service-beside-trainers reference-untiered/real/services ../real/isolated h200-real/
