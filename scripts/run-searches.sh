#!/usr/bin/env bash
# Reproduces results/<task>/ (docs/RESULTS.md, "Mixed-precision search"): the default NSGA-II
# search (population 48, 40 generations, seed 1) on each default model, re-scoring, sensitivity,
# clustering and a short QAT refinement of every front genome.
# Usage: scripts/run-searches.sh [task ...]   (default: all four; DATA=../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${DATA:-../shared/data}"
cargo build --release -q -p bitgru-cli
B=target/release/bitgru
tasks=("$@"); [ ${#tasks[@]} -gt 0 ] || tasks=(kws10 kws4 row-mnist pixel-mnist)
for t in "${tasks[@]}"; do
  case "$t" in
    pixel-mnist) qat=(--qat-epochs 1 --qat-limit 1000 --qat-max 8) ;;  # 784-step BPTT: a smaller QAT budget
    *)           qat=(--qat-epochs 1 --qat-limit 4000) ;;
  esac
  mkdir -p "results/$t"
  ( set -x; /usr/bin/time -f "%e s wall" $B search --task "$t" --model "assets/models/$t.safetensors" \
      --data "$DATA" --pop 48 --gens 40 --seed 1 "${qat[@]}" --out "results/$t" --force --quiet ) \
    > "results/$t/report.txt" 2> "results/$t/log.txt"
  rm -f "results/$t/checkpoint.json.tmp"
  echo "$t done: $(tail -1 "results/$t/log.txt")"
done
