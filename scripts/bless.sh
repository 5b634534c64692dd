#!/usr/bin/env bash
# Re-blesses the frozen test fixtures from the current code. Run it only after an intended change
# of the integer scheme or of the demo model, and review the diff: the test suite only reads these
# files, so a test run can never overwrite them.
#   crates/bitgru/tests/fixtures/golden_kernel.json  (crates/bitgru/examples/bless_golden.rs)
#   tests/fixtures/demo_eval.json, app_search.json, detector_golden.json (examples/bless_demo_eval.rs)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet -p bitgru --example bless_golden
cargo run --quiet -p bitgru-web --example bless_demo_eval
git --no-pager diff --stat -- crates/bitgru/tests/fixtures/golden_kernel.json tests/fixtures/demo_eval.json tests/fixtures/app_search.json tests/fixtures/detector_golden.json
