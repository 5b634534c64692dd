#!/usr/bin/env bash
# Trunk post_build hook: builds the single-threaded simd worker (scripts/build-simd-worker.sh)
# and the threaded worker (scripts/build-mt-worker.sh), then writes
# sw-manifest.json (every file of the build, and a version hash) for the service worker (sw.js).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${TRUNK_STAGING_DIR:-$ROOT/dist}"
bash "$ROOT/scripts/build-simd-worker.sh" "$OUT/simd"
bash "$ROOT/scripts/build-mt-worker.sh" "$OUT/mt"
cd "$OUT"
files=$(find . -type f ! -name sw-manifest.json ! -name sw.js | sed 's|^\./||' | LC_ALL=C sort)
version=$(printf '%s\n' $files | xargs sha256sum | sha256sum | cut -c1-16)
{
  printf '{"version":"%s","files":["./"' "$version"
  for f in $files; do printf ',"./%s"' "$f"; done
  printf ']}\n'
} > sw-manifest.json
echo "[post-build] sw-manifest.json: $(echo "$files" | wc -l) files, version $version" >&2
