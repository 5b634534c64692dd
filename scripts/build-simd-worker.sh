#!/usr/bin/env bash
# Builds the single-threaded compute worker with WebAssembly SIMD (src/bin/worker.rs, integer
# kernel variant simd128) into OUT_DIR (default: $TRUNK_STAGING_DIR/simd when run as Trunk's
# post_build hook, else dist/simd): worker.js, worker_bg.wasm, worker_loader.js (a classic worker
# like Trunk's own). The page uses it when it is not cross-origin isolated and the browser has
# simd128; Trunk's `worker_loader.js` (no target features) is the fallback for browsers without
# it. Stable toolchain; its own target dir (target/simd), shared with the JS API's wasm-pack build,
# so that Trunk's plain wasm32 builds are never invalidated by the different flags.
# Usage: scripts/build-simd-worker.sh [OUT_DIR]     (TRUNK_PROFILE=debug for an unoptimized build)
set -euo pipefail
WORKER=simd
# shellcheck source=scripts/worker-env.sh
source "$(dirname "$0")/worker-env.sh"

unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128"
log "cargo build --profile $PROFILE (+simd128, target/simd)"
cargo build --quiet --target wasm32-unknown-unknown --target-dir target/simd \
  --profile "$PROFILE" --bin worker --no-default-features

WASM="target/simd/wasm32-unknown-unknown/$PROFILE_DIR/worker.wasm"
mkdir -p "$OUT_DIR"
wasm-bindgen --target no-modules --no-typescript --out-dir "$OUT_DIR" --out-name worker "$WASM"
if [ "$PROFILE" = web ]; then
  log "wasm-opt -O3 ($(wasm-opt --version))"
  wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-mutable-globals --enable-sign-ext \
    --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
    "$OUT_DIR/worker_bg.wasm" -o "$OUT_DIR/worker_bg.opt.wasm"
  mv "$OUT_DIR/worker_bg.opt.wasm" "$OUT_DIR/worker_bg.wasm"
fi
printf 'importScripts("./worker.js");wasm_bindgen("./worker_bg.wasm");\n' > "$OUT_DIR/worker_loader.js"
log "done in $(( $(date +%s) - start )) s: $(stat -c %s "$OUT_DIR/worker_bg.wasm") B wasm"
