#!/usr/bin/env bash
# Installs every tool bitgru needs that a fresh Debian 12 (x86_64) machine lacks.
# Idempotent: each step is skipped when the right version is already present (re-run: a few seconds).
# Only package registries are used (crates.io, Debian, npm); nothing is downloaded from GitHub.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # MUST equal wasm-bindgen in Cargo.lock (pinned "=0.2.130" in Cargo.toml)
TRUNK_VERSION=0.21.14          # trunk 0.22 needs rustc >= 1.96.1; stable here is 1.95
WASM_PACK_VERSION=0.15.1
NIGHTLY=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' scripts/nightly-toolchain.toml)  # threaded worker only
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

# 1. Debian packages: headless browser + driver for wasm-bindgen-test and Playwright, gcc for the C-export test.
#    Do NOT install Debian's binaryen: its wasm-opt 108 miscompiles wasm-bindgen 0.2.130 output.
need_apt=()
command -v chromium >/dev/null     || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v gcc >/dev/null          || need_apt+=(gcc)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# 2. Rust targets and the pinned nightly (rust-src) for the wasm-bindgen-rayon worker.
rustup target list --installed | grep -qx wasm32-unknown-unknown || { log "rustup target add wasm32"; rustup target add wasm32-unknown-unknown; }
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 \
   || ! rustup component list --installed --toolchain "$NIGHTLY" | grep -q '^rust-src' \
   || ! rustup target list --installed --toolchain "$NIGHTLY" | grep -qx wasm32-unknown-unknown; then
  log "rustup toolchain install $NIGHTLY"
  rustup toolchain install "$NIGHTLY" --profile minimal -c rust-src -t wasm32-unknown-unknown
fi

# 3. Cargo-installed CLIs, compiled from crates.io (fresh machine: ~13 min on 2 cores).
has() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -qF "$2"; }
has wasm-bindgen "$WASM_BINDGEN_VERSION" || { log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION";
  # no --locked: its lockfile pins a webpki-roots version the registry mirror lacks
  cargo install -q wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"; }
has trunk "$TRUNK_VERSION" || { log "cargo install trunk $TRUNK_VERSION"; cargo install -q --locked trunk --version "=$TRUNK_VERSION"; }
has wasm-pack "$WASM_PACK_VERSION" || { log "cargo install wasm-pack $WASM_PACK_VERSION"; cargo install -q --locked wasm-pack --version "=$WASM_PACK_VERSION"; }

# 4. npm: wasm-opt (binaryen 132, runs on node) and playwright-core (drives /usr/bin/chromium).
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
log "tools ready"
