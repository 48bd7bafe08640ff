#!/usr/bin/env bash
# Simulations per hour of the demo preset at a given grid, running every
# array task in turn on this machine with --per-task 1 (one simulation at a
# time, on 1 or 2 in-process ranks) and --per-task 2 (two at once).
# usage: scripts/bench-task.sh [grid=64]
set -euo pipefail
cd "$(dirname "$0")/.."
grid=${1:-64}
go build -o bin/ ./sim
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin/sim plan --preset demo --grid "$grid" --out "$work/m.csv" >/dev/null
rows=$(grep -vc -e '^#' -e '^id,' "$work/m.csv")
bench() { # per-task ranks
	local out="$work/snaps-$1-$2" tasks=$(((rows + $1 - 1) / $1)) start end
	start=$(date +%s.%N)
	for ((k = 0; k < tasks; k++)); do
		bin/sim task --manifest "$work/m.csv" --outdir "$out" --task-id "$k" --per-task "$1" --ranks "$2" --log-every 1h 2>/dev/null
	done
	end=$(date +%s.%N)
	awk -v n="$rows" -v s="$start" -v e="$end" -v m="$1" -v r="$2" -v g="$grid" 'BEGIN {
		printf "demo preset, %d sims at %d³, --per-task %d --ranks %d: %.1f s, %.0f simulations/hour\n", n, g, m, r, e - s, 3600 * n / (e - s) }'
}
bench 1 1
bench 1 2
bench 2 1
