#!/usr/bin/env bash
# The keyword-spotting training experiments of docs/TRAINING.md ("Better KWS models"), one idea
# at a time against a baseline with the same budget. Each run logs to runs/<name>.log,
# checkpoints to runs/<name>.ckpt.json (resumed when present) and writes runs/<name>.safetensors.
# Usage: scripts/kws-experiments.sh NAME...   (names below; BIN=... to use another binary)
# Needs the data root (../shared/data by default; DATA=... to override) and a release CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${DATA:-../shared/data}"
BIN="${BIN:-target/release/bitgru}"
mkdir -p runs
# Pilots: kws4, 30 epochs, otherwise the default-model recipe.
P4=(--task kws4 --epochs 30 --lr 5e-3 --weight-decay 0.05 --seed 1)
# The c2/c3 training stream: more noise at lower SNR, label smoothing, shifted onsets, extra silence
# (kws4 also keeps 1.5 x the mean keyword count of _unknown_: U4).
C2=(--snr 0,15 --noise-prob 0.9 --label-smoothing 0.1 --shift-ms 150 --silence-fraction 0.1)
U4=(--unknown-cap 1.5)
run() { # name, args...
  local name=$1; shift
  local resume=()
  [ -f "runs/$name.ckpt.json" ] && resume=(--resume)
  "$BIN" train --data "$DATA" --out "runs/$name.safetensors" --checkpoint "runs/$name.ckpt.json" \
    "${resume[@]}" --quiet "$@" >>"runs/$name.log" 2>&1
}
for name in "$@"; do
  case "$name" in
    p4-base)      run "$name" "${P4[@]}" ;;
    p4-spec)      run "$name" "${P4[@]}" --spec-augment 2,5,1,2 ;;
    p4-noise)     run "$name" "${P4[@]}" --snr 0,15 --noise-prob 0.9 ;;
    p4-ls)        run "$name" "${P4[@]}" --label-smoothing 0.1 ;;
    # Defined but not run in session 3 (CPU budget):
    p4-h96)       run "$name" "${P4[@]}" --hidden 96 ;;
    p4-stream)    run "$name" "${P4[@]}" --shift-ms 200 --silence-fraction 0.1 --unknown-cap 2 ;;
    # Full length, the combinations. Session 3 ran them with a re-planned schedule (c1: 120/80 ->
    # 90/60 epochs; c2: 90/60 -> 75/45 at epoch 22/13) and stopped them early; docs/TRAINING.md.
    # Their checkpoints (c2) are in assets/checkpoints/: copy to runs/ to continue.
    # c1: spec masks + label smoothing + streaming-minded stream.
    kws4-c1)      run "$name" --task kws4 --epochs 90 --lr 5e-3 --weight-decay 0.05 --seed 1 \
                    --spec-augment 2,5,1,2 --label-smoothing 0.1 --shift-ms 150 --silence-fraction 0.1 --unknown-cap 1.5 ;;
    kws10-c1)     run "$name" --task kws10 --epochs 60 --lr 5e-3 --weight-decay 0.05 --seed 1 \
                    --spec-augment 2,5,1,2 --label-smoothing 0.1 --shift-ms 150 --silence-fraction 0.1 ;;
    # The same without SpecAugment, with more noise at lower SNR instead.
    kws4-c2)      run "$name" --task kws4 --epochs 75 --lr 5e-3 --weight-decay 0.05 --seed 1 \
                    "${C2[@]}" "${U4[@]}" ;;
    kws10-c2)     run "$name" --task kws10 --epochs 45 --lr 5e-3 --weight-decay 0.05 --seed 1 \
                    "${C2[@]}" ;;
    # Session 5 (idle machine): the c2 recipe at the old defaults' full lengths, from scratch,
    # and a wider model that may afford a mild SpecAugment.
    kws4-c3)      run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 \
                    "${C2[@]}" "${U4[@]}" ;;
    kws10-c3)     run "$name" --task kws10 --epochs 80 --lr 5e-3 --weight-decay 0.05 --seed 1 \
                    "${C2[@]}" ;;
    kws4-h96)     run "$name" --task kws4 --hidden 96 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 \
                    "${C2[@]}" "${U4[@]}" ;;
    kws10-h96)    run "$name" --task kws10 --hidden 96 --epochs 80 --lr 5e-3 --weight-decay 0.05 --seed 1 \
                    "${C2[@]}" ;;
    kws4-h96s)    run "$name" --task kws4 --hidden 96 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 \
                    --spec-augment 1,3,1,1 --label-smoothing 0.1 --shift-ms 150 --silence-fraction 0.1 --unknown-cap 1.5 ;;
    kws4-h128)    run "$name" --task kws4 --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 ;;
    kws10-h128)   run "$name" --task kws10 --hidden 128 --epochs 80 --lr 5e-3 --weight-decay 0.05 --seed 1 ;;
    # The old defaults' recipe plus label smoothing only (the pilots' best single idea).
    kws4-ls)      run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 --label-smoothing 0.1 ;;
    kws10-ls)     run "$name" --task kws10 --epochs 80 --lr 5e-3 --weight-decay 0.05 --seed 1 --label-smoothing 0.1 ;;
    # H = 128 overfits with weight decay 0.05 (kws4-h128: 99 % train); more decay and smoothing.
    kws4-h128wd)  run "$name" --task kws4 --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 1 --label-smoothing 0.1 ;;
    # The old default recipe with another seed: how much of 89.03 % is the seed.
    kws4-s2)      run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 2 ;;
    # The c3 recipe (highest kws4 plateau) on the kws4-h128wd model (highest kws4 peak).
    kws4-h128c)   run "$name" --task kws4 --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 1 \
                    "${C2[@]}" "${U4[@]}" ;;
    # Session 6 (issue 9): an exponential moving average of the weights (--ema), validated each
    # epoch and kept instead of the raw weights. With the warm-up decay min(d, t/(t + 9)) a
    # 120-epoch kws4 run (4,320-4,680 steps) never reaches d = 0.999 (from step 8,991 on).
    kws4-c3-ema)  run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 \
                    "${C2[@]}" "${U4[@]}" --ema 0.999 ;;
    kws4-ema)     run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 --ema 0.999 ;;
    # Session 7 (issue 9, the detector's false alarms on unknown speech): the default recipe plus
    # windows across two words as _unknown_ (0.3 x the clips per epoch).
    kws4-bu)      run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 --boundary-unknown 0.3 ;;
    # The EMA helps most while the learning rate is high (kws4-ema: 88.6 % averaged against
    # 84 % raw at lr 3e-3): keep the cosine above 3e-3 for the whole run.
    kws4-ema-lr3) run "$name" --task kws4 --epochs 120 --lr 5e-3 --min-lr 3e-3 --weight-decay 0.05 --seed 1 --ema 0.999 ;;
    # The highest kws4 peaks (kws4-h128wd, kws4-h128c) came early (epochs 32-34, lr ~4e-3),
    # where the EMA gains most over the raw weights: the same runs with --ema.
    kws4-h128wd-ema) run "$name" --task kws4 --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 1 \
                    --label-smoothing 0.1 --ema 0.999 ;;
    kws4-h128c-ema) run "$name" --task kws4 --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 1 \
                    "${C2[@]}" "${U4[@]}" --ema 0.999 ;;
    # Session 7 (issue 9): richer features. The same recipes with more MFCC coefficients per
    # frame (--n-mfcc N of the 40 mel bands; 40 = the whole orthonormal DCT of the log-mel
    # spectrum, i.e. all its information). The model's input size is N; the bundle records the
    # MFCC configuration, so eval, detect and the app compute the same features.
    kws4-m13)     run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 --n-mfcc 13 ;;
    kws4-m20)     run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 --n-mfcc 20 ;;
    kws4-m40)     run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 --n-mfcc 40 ;;
    kws4-m20-c3)  run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 \
                    "${C2[@]}" "${U4[@]}" --n-mfcc 20 ;;
    kws4-m40-c3)  run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 \
                    "${C2[@]}" "${U4[@]}" --n-mfcc 40 ;;
    kws4-m20-ema) run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 --n-mfcc 20 --ema 0.999 ;;
    kws4-m20-s2)  run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 2 --n-mfcc 20 ;;
    # The same-build baseline: the default recipe and features (= the old kws4 default's flags).
    kws4-m10)     run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 ;;
    # The filterbank's upper edge: the default 4 kHz drops the fricatives' energy (/s/ of "yes");
    # --fmax 8000 spreads the 40 bands over the whole 16 kHz spectrum.
    kws4-f8k)     run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 --fmax 8000 ;;
    kws4-f8k-c3)  run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 \
                    "${C2[@]}" "${U4[@]}" --fmax 8000 ;;
    kws4-m13-f8k) run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 --n-mfcc 13 --fmax 8000 ;;
    kws4-m20-f8k) run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.05 --seed 1 --n-mfcc 20 --fmax 8000 ;;
    # More features with more capacity and regularization: the kws4-h128wd recipe (H = 128,
    # wd 0.2, ls 0.1; 89.03 % with the default features) on richer features.
    kws4-m20-h128wd) run "$name" --task kws4 --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 1 \
                    --label-smoothing 0.1 --n-mfcc 20 ;;
    kws4-m13-h128wd) run "$name" --task kws4 --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 1 \
                    --label-smoothing 0.1 --n-mfcc 13 ;;
    kws4-f8k-h128wd) run "$name" --task kws4 --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 1 \
                    --label-smoothing 0.1 --fmax 8000 ;;
    # The two other H = 128 recipes of sessions 5-6 on the 8 kHz filterbank.
    kws4-f8k-h128c) run "$name" --task kws4 --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 1 \
                    "${C2[@]}" "${U4[@]}" --fmax 8000 ;;
    kws4-f8k-h128wd-ema) run "$name" --task kws4 --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 1 \
                    --label-smoothing 0.1 --fmax 8000 --ema 0.999 ;;
    # The best session-7 run with seed 2 (how much of its peak is the seed), and with 64 mel
    # bands instead of 40 over the 20-8000 Hz range (finer bands, still 10 coefficients).
    kws4-f8k-h128wd-s2) run "$name" --task kws4 --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 2 \
                    --label-smoothing 0.1 --fmax 8000 ;;
    # The control of kws4-f8k-h128wd-s2: the same recipe and seed on the default features.
    kws4-h128wd-s2) run "$name" --task kws4 --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 2 \
                    --label-smoothing 0.1 ;;
    kws4-f8k-b64-h128wd) run "$name" --task kws4 --hidden 128 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 1 \
                    --label-smoothing 0.1 --fmax 8000 --n-mels 64 ;;
    # H = 64 with the H = 128 recipe's regularization (wd 0.2, ls 0.1), on the default features
    # (the control of kws4-f8k-wd) and on the 8 kHz filterbank.
    kws4-wd)      run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 1 \
                    --label-smoothing 0.1 ;;
    kws4-f8k-wd-ema) run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 1 \
                    --label-smoothing 0.1 --fmax 8000 --ema 0.999 ;;
    kws4-f8k-wd)  run "$name" --task kws4 --epochs 120 --lr 5e-3 --weight-decay 0.2 --seed 1 \
                    --label-smoothing 0.1 --fmax 8000 ;;
    *) echo "unknown experiment $name" >&2; exit 2 ;;
  esac
done
