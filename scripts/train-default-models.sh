#!/usr/bin/env bash
# Trains the default models committed under assets/models/ (the exact commands recorded in
# docs/RESULTS.md and in each model's metadata). Resumable: every run checkpoints to runs/.
# Usage: scripts/train-default-models.sh [row-mnist|kws10|kws4|pixel-mnist ...]  (default: all)
# A run resumes from runs/<task>.ckpt.json when it exists: delete it to start over.
# Needs the data root (../shared/data by default; DATA=... to override) and a release CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${DATA:-../shared/data}"
cargo build --release -q -p bitgru-cli
B=target/release/bitgru
mkdir -p runs assets/models
run() { # name, args...
  local name=$1; shift
  local resume=()
  # A checkpoint committed by an earlier session continues there (pixel-mnist spans sessions).
  if [ ! -f "runs/$name.ckpt.json" ] && [ -f "assets/checkpoints/$name.ckpt.json" ]; then
    cp "assets/checkpoints/$name.ckpt.json" "runs/$name.ckpt.json"
  fi
  [ -f "runs/$name.ckpt.json" ] && resume=(--resume)
  "$B" train --data "$DATA" --out "assets/models/$name.safetensors" --checkpoint "runs/$name.ckpt.json" \
    "${resume[@]}" --quiet "$@" 2>&1 | tee -a "runs/$name.log"
}
for t in "${@:-row-mnist kws10 kws4 pixel-mnist}"; do
  for task in $t; do
    case "$task" in
      row-mnist)   run row-mnist   --task row-mnist   --epochs 30 --weight-decay 0.05 --seed 1 ;;
      kws10)       run kws10       --task kws10       --epochs 80 --lr 5e-3 --weight-decay 0.05 --seed 1 --label-smoothing 0.1 ;;
      kws4)        run kws4        --task kws4        --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 2 --label-smoothing 0.1 --fmax 8000 ;;
      pixel-mnist) run pixel-mnist --task pixel-mnist --epochs 60 --lr 2e-3 --batch 64 --shards 2 --seed 1 --max-minutes "${MAX_MINUTES:-170}" ;;
      *) echo "unknown task $task" >&2; exit 2 ;;
    esac
  done
done
