# Sourced by scripts/build-{mt,simd}-worker.sh with WORKER (mt | simd) set and the script's
# arguments: sets ROOT (and cds there), PATH, OUT_DIR ($1, else $TRUNK_STAGING_DIR/$WORKER as a
# Trunk hook, else dist/$WORKER), PROFILE / PROFILE_DIR (web, or dev with TRUNK_PROFILE=debug),
# start, and log().
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
OUT_DIR="${1:-${TRUNK_STAGING_DIR:-$ROOT/dist}/$WORKER}"
if [ "${TRUNK_PROFILE:-release}" = release ]; then
  PROFILE=web; PROFILE_DIR=web
else
  PROFILE=dev; PROFILE_DIR=debug
fi
log() { printf '[%s-worker] %s\n' "$WORKER" "$*" >&2; }
start=$(date +%s)
