#!/usr/bin/env bash
# Runs every bitgru test: formatting, lints, native tests (core, CLI, app logic), then the
# browser tests (wasm in headless Chromium, the JS API built by wasm-pack, the Trunk app end to
# end with Playwright). Installs whatever is missing first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

scripts/setup.sh

t0=$(date +%s)
stage() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - t0 ))"; }

stage "cargo fmt --check"
cargo fmt --all -- --check

stage "cargo clippy (native, all targets, -D warnings)"
cargo clippy --workspace --all-targets -- -D warnings

stage "native tests"
cargo test --workspace

stage "browser tests"
scripts/test-web.sh

stage "all tests passed"
