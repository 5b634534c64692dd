#!/usr/bin/env bash
# Serves the app on http://127.0.0.1:8080 (release build, rebuilt on change), cross-origin isolated
# (COOP/COEP from Trunk.toml), so the threaded worker is used. Installs missing tools first.
# Usage: scripts/serve.sh [extra trunk serve arguments]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
exec trunk serve --release "$@"
