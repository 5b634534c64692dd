#!/usr/bin/env bash
# Runs every bitgru test: formatting, lints, native tests (core, CLI, app logic), then the
# browser tests (wasm in headless Chromium, the JS API built by wasm-pack, the Trunk app end to
# end with Playwright). Installs whatever is missing first (scripts/setup.sh).
set -euo pipefail
# pipefail: a failing `cargo test | tee` fails the script.
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# No incremental caches: they doubled the target dir and a one-shot test run gains nothing from
# them (CI's disk filled up once; see Cargo.toml [profile.dev]).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

scripts/setup.sh

t0=$(date +%s)
# Each stage line shows the free disk space too: a full disk once failed CI mid-run.
stage() {
  printf '\n==> %s (%ss; %s free)\n' "$*" "$(( $(date +%s) - t0 ))" \
    "$(df -h --output=avail . 2>/dev/null | tail -1 | tr -d ' ')"
}
LOG="$(mktemp)"
# Tests that skip for a missing prerequisite (../shared/data, gcc) append one `SKIPPED: test:
# reason` line here (crates/bitgru/tests/support/mod.rs); under CI=true they fail instead.
export BITGRU_SKIP_LOG="$(mktemp)"
trap 'rm -f "$LOG" "$BITGRU_SKIP_LOG"' EXIT
# Counts the tests of every runner (cargo's "test result:" lines, node --test's "ℹ pass/fail").
# A skipped test passes as far as cargo knows: it is counted as skipped, not passed, and so is
# every `#[ignore]`d test. The last line of the output is `bitgru: N passed, N failed, N skipped`.
total() {
  local skipped
  skipped=$(sort -u "$BITGRU_SKIP_LOG" | grep -c '^SKIPPED: ' || true)
  if [ "$skipped" -gt 0 ]; then
    printf '\nskipped tests (missing prerequisites):\n'
    sort -u "$BITGRU_SKIP_LOG"
  fi
  awk -v s="$skipped" \
      '/test result: /{ if (match($0, /[0-9]+ passed/)) p += substr($0, RSTART, RLENGTH) + 0;
                        if (match($0, /[0-9]+ failed/)) f += substr($0, RSTART, RLENGTH) + 0;
                        if (match($0, /[0-9]+ ignored/)) i += substr($0, RSTART, RLENGTH) + 0 }
       /^ℹ pass [0-9]+/{ p += $3 } /^ℹ fail [0-9]+/{ f += $3 } /^ℹ skipped [0-9]+/{ i += $3 }
       END { printf "bitgru: %d passed, %d failed, %d skipped\n", p - s, f, s + i }' "$LOG"
}
rc=0
finish() {
  if [ "$rc" -eq 0 ]; then stage "all tests passed"; else stage "FAILED (exit $rc)"; fi
  total
  exit "$rc"
}

stage "cargo fmt --check"
cargo fmt --all -- --check || { rc=$?; finish; }

stage "cargo clippy (native, all targets, -D warnings)"
cargo clippy --workspace --all-targets -- -D warnings || { rc=$?; finish; }

# The web package's native tests run in scripts/test-web.sh (counted once).
stage "native tests (core, CLI, fuzz regressions)"
cargo test --workspace --exclude bitgru-web 2>&1 | tee -a "$LOG" || rc=$?

stage "browser tests (and the web package's native tests)"
scripts/test-web.sh 2>&1 | tee -a "$LOG" || rc=$?

finish
