#!/usr/bin/env bash
# The integer kernel in wasm (headless Chromium, one thread, simd128 and scalar) against the same
# kernel natively (one thread, every variant), on the kws10 shape (T = 49, I = 10, H = 64,
# 6 classes, batch 256, all-8), in one run: native, wasm, native again, so that the machine's load
# shows as a spread. Prints seq/s and µs per streaming step, the ratios wasm ÷ native, and the
# wasm time of a step's two stages (products, element-wise) per sequence.
#   bench/wasm_vs_native.sh            (builds target/release/bitgru and the wasm test)
# The wasm test is built with the profile the app ships (`web-test`: the `web` profile, opt-level
# z with fat LTO and the core at O3, with unwinding for the test harness); PROFILE=release for the
# O3-without-LTO build that the figures before session 7 used.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-600}"
SIMD=(env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128")
export PROFILE="${PROFILE:-web-test}"
cargo build --quiet --release -p bitgru-cli
"${SIMD[@]}" cargo test --quiet --profile "$PROFILE" -p bitgru-web --target wasm32-unknown-unknown --test web \
  --no-run 2>/dev/null
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
native() {
  target/release/bitgru bench --hidden 64 --steps 49 --input 10 --classes 6 --batch 256 \
    --genome 88888888888888888 --min-time-ms 1500 --json > "$T/native$1.json"
}
wasm() {
  # (no --quiet here: cargo passes it on to wasm-bindgen-test-runner, which refuses it)
  "${SIMD[@]}" cargo test --profile "$PROFILE" -p bitgru-web --target wasm32-unknown-unknown --test web \
    -- kernel_throughput --nocapture 2>&1 | grep -E '^wasm kws10' > "$T/wasm.txt"
}
native 1; wasm; native 2
python3 - "$T" <<'PY'
import json, os, re, sys
t = sys.argv[1]
runs = [json.load(open(os.path.join(t, f)))['results'][0] for f in ('native1.json', 'native2.json')]
wasm = open(os.path.join(t, 'wasm.txt')).read()
w = {m.group(1): float(m.group(2)) for m in re.finditer(r'batch kernel (\S+): (\d+) seq/s', wasm)}
ws = float(re.search(r'streaming step \(\S+\): ([\d.]+)', wasm).group(1))
nat = {}
for r in runs:
    for v in r['batch_1thread']:
        nat.setdefault(v['variant'], []).append(v['seq_per_s'])
best = max(nat, key=lambda k: sum(nat[k]))
fmt = lambda xs: '/'.join(f'{x:,.0f}' for x in xs)
print(f'kws10 shape (T=49, I=10, H=64, 6 classes), batch 256, all-8, one thread; native runs before/after wasm ({os.environ.get("PROFILE", "web-test")} wasm build)')
print(f'native seq/s: ' + ', '.join(f'{k} {fmt(v)}' for k, v in nat.items()))
print(f'wasm seq/s:   ' + ', '.join(f'{k} {v:,.0f}' for k, v in w.items()))
lo, hi = min(nat[best]), max(nat[best])
print(f'wasm simd128 / native {best}: {w["simd128"] / hi:.2f}-{w["simd128"] / lo:.2f}')
print(f'wasm simd128 / native avx2: {w["simd128"] / max(nat["avx2"]):.2f}-{w["simd128"] / min(nat["avx2"]):.2f}')
print(f'wasm scalar / native scalar: {w["scalar"] / max(nat["scalar"]):.2f}-{w["scalar"] / min(nat["scalar"]):.2f}')
print(f'streaming step: wasm {ws:.2f} us, native ' + '/'.join(f"{r['stream_step_us']:.2f}" for r in runs) + ' us')
for m in re.finditer(r'stage (\S+) (\S+): ([\d.]+) µs', wasm):
    print(f'wasm {m.group(1)} {m.group(2).lower()}: {m.group(3)} us per sequence-step')
PY
