#!/usr/bin/env bash
# Speed of the exported C step, packed vs unpacked storage, on this machine: the kws10 default
# model (H = 64) at the given genomes, gcc -O2, best of 7 runs of 20,000 steps each; the two
# storages run alternately in one invocation so that they see the same machine load.
#   bench/c_step.sh [BITGRU_BINARY] [GENOME...]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-target/release/bitgru}
shift || true
GENOMES=${*:-"88888888888888888 44444444444444444 23645377577677544"}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for g in $GENOMES; do
  for s in packed unpacked; do
    "$B" export --model assets/models/kws10.safetensors --genome "$g" --format c --storage "$s" \
      --prefix m --out "$T/$g-$s" >/dev/null 2>&1
    gcc -std=c99 -O2 -I "$T/$g-$s" -o "$T/$g-$s/bench" bench/c_step_main.c "$T/$g-$s/m.c"
  done
done
for round in 1 2; do
  for g in $GENOMES; do
    for s in packed unpacked; do "$T/$g-$s/bench"; done
  done
done
