#!/usr/bin/env bash
# Sizes of the four default models at all-8, all-4 and their best mixed genome within 1 pp
# (results/<task>/result.json): size metric, .bitgru file, and the C export's read-only data
# (gcc -O2 -c, `size -A`: the .rodata sections of <prefix>.c), packed and unpacked.
#   scripts/packed_sizes.sh [BITGRU_BINARY]   -> a markdown table on stdout
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-target/release/bitgru}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "| model | genome | metric bytes | stored part | .bitgru bytes (tensors + header) | C rodata packed (stated) | C rodata unpacked |"
echo "|---|---|---:|---:|---:|---:|---:|"
for task in row-mnist pixel-mnist kws4 kws10; do
  best=$(python3 -c "import json;print(json.load(open('results/$task/result.json'))['best_within_1pp']['genome'])")
  for g in 88888888888888888 44444444444444444 "$best"; do
    d="$T/$task-$g"
    "$B" export --model "assets/models/$task.safetensors" --genome "$g" --out "$d" >/dev/null 2>&1
    for s in packed unpacked; do
      "$B" export --model "$d/model.bitgru" --format c --storage "$s" --prefix m --out "$d/$s" \
        >/dev/null 2>&1
      (cd "$d/$s" && gcc -std=c99 -O2 -c m.c)
    done
    ro() { size -A "$1" | awk '/^\.rodata/ {s += $2} END {print s}'; }
    dims=$(python3 -c "
import json,sys
h=json.loads(open('$d/model.bitgru','rb').read()[8:8+int.from_bytes(open('$d/model.bitgru','rb').read()[:8],'little')])
m=json.loads(h['__metadata__']['bitgru.quant'])
print('%d,%d,%d' % (m['input_size'], m['hidden'], m['classes']))")
    size=$("$B" size --dims "$dims" --genome "$g")
    read -r mb stored tens rop <<<"$(python3 -c "
import json,sys
s=json.loads('''$size''')
st=s['storage']
print(s['bytes'], st['metric_stored_bytes'], st['packed_tensor_bytes'], st['c_rodata_packed'])")"
    fb=$(stat -c %s "$d/model.bitgru")
    label=$g; [ "$g" = "$best" ] && label="$g (best)"
    echo "| $task | $label | $mb | $stored | $fb ($tens + $((fb - tens))) | $(ro "$d/packed/m.o") ($rop) | $(ro "$d/unpacked/m.o") |"
  done
done
