#!/usr/bin/env bash
# Wall time and peak memory of one turbulence run, and the snapshot's size.
# usage: scripts/bench-run.sh [grid=128] [ranks=1] [tend_myr=0.5]
set -euo pipefail
cd "$(dirname "$0")/.."
grid=${1:-128} ranks=${2:-1} tend=${3:-0.5}
go build -o bin/ ./sim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/time -f '%e %M' -o "$out/time" \
	bin/sim run --grid "$grid" --ranks "$ranks" --tend "$tend" --fields density,velocity \
	--out "$out/run.tsnap" --log-every 1h 2>/dev/null
read -r wall kb <"$out/time"
cells=$((grid * grid * grid))
bytes=$(stat -c %s "$out/run.tsnap")
awk -v g="$grid" -v r="$ranks" -v w="$wall" -v kb="$kb" -v c="$cells" -v b="$bytes" 'BEGIN {
	printf "grid %d³, %d ranks: wall %.2f s, peak RSS %.0f MiB = %.0f bytes/cell, snapshot %.1f MiB (raw fields %.1f MiB)\n",
		g, r, w, kb / 1024, kb * 1024 / c, b / 1048576, (4 * c * 4 + 3 * 4 * g * g) / 1048576 }'
