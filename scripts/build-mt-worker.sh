#!/usr/bin/env bash
# Builds the threaded compute worker (src/bin/worker.rs with --features threads) into
# OUT_DIR (default: $TRUNK_STAGING_DIR/mt when run as Trunk's post_build hook, else dist/mt):
#   worker.js, worker_bg.wasm, snippets/ (wasm-bindgen-rayon's helper), worker_loader.js.
# Nightly + build-std, because std must be rebuilt with atomics; the explicit shared-memory linker
# arguments are needed since nightly-2025-10-03 (+atomics alone no longer gives shared memory).
# Its own target dir (target/mt), so that the stable builds are never invalidated.
# Usage: scripts/build-mt-worker.sh [OUT_DIR]        (TRUNK_PROFILE=debug for an unoptimized build)
set -euo pipefail
WORKER=mt
# shellcheck source=scripts/worker-env.sh
source "$(dirname "$0")/worker-env.sh"
NIGHTLY=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' scripts/nightly-toolchain.toml)

export RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 \
 -C link-arg=--shared-memory -C link-arg=--max-memory=1073741824 -C link-arg=--import-memory \
 -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
 -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base \
 -C link-arg=--export=__heap_base"
unset CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS

# std's `optimize_for_size` (smaller sort and formatting code in std only: our kernel is
# untouched, and every sort_unstable here sorts plain values, so results do not depend on the
# algorithm) takes 37 KB off the gzipped worker, which the first-load budget needs (issue 8).
log "cargo +$NIGHTLY build --profile $PROFILE (target/mt)"
cargo "+$NIGHTLY" build --quiet \
  --target wasm32-unknown-unknown -Z build-std=panic_abort,std -Z build-std-features=optimize_for_size \
  --target-dir target/mt --profile "$PROFILE" \
  --bin worker --no-default-features --features threads

WASM="target/mt/wasm32-unknown-unknown/$PROFILE_DIR/worker.wasm"
mkdir -p "$OUT_DIR"
log "wasm-bindgen --target web -> $OUT_DIR"
wasm-bindgen --target web --no-typescript --out-dir "$OUT_DIR" --out-name worker "$WASM"

if [ "$PROFILE" = web ]; then
  # Features of the nightly output; binaryen must be told (no target_features section left).
  log "wasm-opt -O3 ($(wasm-opt --version))"
  wasm-opt -O3 --enable-threads --enable-bulk-memory --enable-mutable-globals \
    --enable-sign-ext --enable-nontrapping-float-to-int --enable-reference-types \
    --enable-multivalue --enable-simd "$OUT_DIR/worker_bg.wasm" -o "$OUT_DIR/worker_bg.opt.wasm"
  mv "$OUT_DIR/worker_bg.opt.wasm" "$OUT_DIR/worker_bg.wasm"
fi

cat > "$OUT_DIR/worker_loader.js" <<'JS'
// The threaded compute worker (a module worker): instantiates the shared-memory wasm, whose
// `main` starts the wasm-bindgen-rayon pool and then posts `ready` to the page.
import init from './worker.js';
await init({ module_or_path: new URL('./worker_bg.wasm', import.meta.url) });
JS
log "done in $(( $(date +%s) - start )) s: $(stat -c %s "$OUT_DIR/worker_bg.wasm") B wasm"
