#!/usr/bin/env bash
# Runs every bitgru test: formatting, lints, native tests (core, CLI, app logic), then the
# browser tests (wasm in headless Chromium, the JS API built by wasm-pack, the Trunk app end to
# end with Playwright). Installs whatever is missing first (scripts/setup.sh).
set -euo pipefail
# pipefail: a failing `cargo test | tee` fails the script.
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

scripts/setup.sh

t0=$(date +%s)
stage() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - t0 ))"; }
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
# Counts the tests of every runner (cargo's "test result:" lines, node --test's "ℹ pass/fail").
total() {
  awk '/test result: /{ if (match($0, /[0-9]+ passed/)) p += substr($0, RSTART, RLENGTH) + 0;
                        if (match($0, /[0-9]+ failed/)) f += substr($0, RSTART, RLENGTH) + 0 }
       /^ℹ pass [0-9]+/{ p += $3 } /^ℹ fail [0-9]+/{ f += $3 }
       END { printf "bitgru: %d passed, %d failed\n", p, f }' "$LOG"
}

stage "cargo fmt --check"
cargo fmt --all -- --check

stage "cargo clippy (native, all targets, -D warnings)"
cargo clippy --workspace --all-targets -- -D warnings

stage "native tests"
cargo test --workspace 2>&1 | tee -a "$LOG"

stage "browser tests"
scripts/test-web.sh 2>&1 | tee -a "$LOG"

stage "all tests passed"
total
