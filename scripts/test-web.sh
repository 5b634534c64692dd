#!/usr/bin/env bash
# Builds the web app (trunk build --release, incl. the threaded worker) and the JS API
# (wasm-pack → pkg/), then runs every web test:
#   1. native tests of the bitgru-web package (protocol, engine, cross-target fixture);
#   2. wasm-bindgen tests in headless Chromium (tests/web.rs: UI + golden kernel bits;
#      tests/api.rs: the JS API);
#   3. Playwright (playwright-core + Debian chromium): tests/e2e/app.spec.mjs (the built page,
#      threaded and single-threaded), tests/e2e/listen.spec.mjs (the Listen page with a fake
#      microphone) and tests/e2e/api.spec.mjs (pkg/ imported in a page).
# Prints one line per step and a total `N passed, N failed`; exits non-zero on any failure.
# Usage: scripts/test-web.sh   (SKIP_BUILD=1 reuses dist/ and pkg/; BITGRU_MEMORY=1 adds
#        tests/e2e/memory.spec.mjs, the memory of a 48 x 40 search)
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"

for tool in trunk wasm-bindgen wasm-bindgen-test-runner wasm-pack chromedriver; do
  command -v "$tool" >/dev/null || { echo "test-web: $tool missing, running scripts/setup.sh"; bash scripts/setup.sh || exit 2; break; }
done
[ -x node_modules/.bin/wasm-opt ] && [ -d node_modules/playwright-core ] || bash scripts/setup.sh || exit 2

LOGS="$(mktemp -d)"
trap 'rm -rf "$LOGS"' EXIT
tests_passed=0; tests_failed=0; steps_failed=(); summary=()

# step NAME COMMAND...: runs, shows output, counts tests from cargo / node --test lines.
step() {
  local name="$1"; shift
  local log="$LOGS/$(echo "$name" | tr -c 'a-zA-Z0-9' _).log" t0=$SECONDS rc
  printf '\n==> %s: %s\n' "$name" "$*"
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  local p f
  p=$(awk '/test result: /{ if (match($0, /[0-9]+ passed/)) s += substr($0, RSTART, RLENGTH) + 0 }
           /^ℹ pass [0-9]+/{ s += $3 } END { print s + 0 }' "$log")
  f=$(awk '/test result: /{ if (match($0, /[0-9]+ failed/)) s += substr($0, RSTART, RLENGTH) + 0 }
           /^ℹ fail [0-9]+/{ s += $3 } END { print s + 0 }' "$log")
  p=${p:-0}; f=${f:-0}
  tests_passed=$((tests_passed + p)); tests_failed=$((tests_failed + f))
  if [ "$rc" -eq 0 ]; then
    summary+=("ok     $name ($((SECONDS - t0)) s; $p passed, $f failed)")
  else
    steps_failed+=("$name")
    summary+=("FAILED $name ($((SECONDS - t0)) s, exit $rc; $p passed, $f failed)")
  fi
  return "$rc"
}

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  step "trunk build --release" trunk build --release
  # The JS API with the simd128 kernel, built in target/simd (shared with the simd worker).
  step "wasm-pack build" env CARGO_TARGET_DIR=target/simd CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" \
    wasm-pack build --target web --out-dir pkg --mode no-install --profile web
fi
step "native tests" cargo test -p bitgru-web
# The runner gives up on a browser test after 20 s by default; a loaded 2-core machine needs more.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-180}"
# simd128, so that the kernel's simd128 variant runs beside the scalar one (.cargo/config.toml).
step "wasm tests (headless Chromium)" env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" \
  cargo test -p bitgru-web --target wasm32-unknown-unknown --test web --test api
if [ -f dist/index.html ]; then
  step "e2e app (Playwright)" node --test --test-reporter=spec tests/e2e/app.spec.mjs
  # The Listen page with a fake microphone (streams built from ../shared/data at test time).
  step "e2e Listen (Playwright)" node --test --test-reporter=spec tests/e2e/listen.spec.mjs
else
  steps_failed+=("e2e app: no dist/"); summary+=("FAILED e2e app: dist/ was not built")
fi
# Opt-in: the tab's memory during a full 48 × 40 search (minutes; docs/BENCHMARKS.md, "Browser app").
if [ "${BITGRU_MEMORY:-0}" = 1 ] && [ -f dist/index.html ]; then
  step "e2e memory, 48 x 40 search (Playwright)" node --test --test-reporter=spec tests/e2e/memory.spec.mjs
fi
if [ -f pkg/bitgru_web.js ]; then
  step "e2e JS API (Playwright)" node --test --test-reporter=spec tests/e2e/api.spec.mjs
else
  steps_failed+=("e2e JS API: no pkg/"); summary+=("FAILED e2e JS API: pkg/ was not built")
fi

printf '\n==> summary\n'
printf '%s\n' "${summary[@]}"
echo "test-web: $tests_passed passed, $tests_failed failed; ${#steps_failed[@]} step(s) failed"
[ ${#steps_failed[@]} -eq 0 ] && [ "$tests_failed" -eq 0 ]
