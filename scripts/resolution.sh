#!/usr/bin/env bash
# The resolution study: the same simulations (same campaign seed, hence the
# same initial conditions) at several grids N, a CNN trained at each N, and
# each CNN tested on the holdout of every N, with all images resampled to the
# same pixel scale in pc (--image-size pixels for the quadrant's 5 pc at any
# N). Writes $RES_OUT/report: resolution.csv and resolution.png (accuracy,
# train N × test N), spectrum.csv and spectrum.png (the power spectrum of
# log Σ per N and class, where the resolutions part), index.html.
# Re-running reuses finished simulations and trainings.
#
# Sizes (environment): RES_GRIDS ("32 64 128", each simulated in full and
# trained on), RES_TEST_GRIDS ("": grids of which only the holdout
# simulations are run, tested on but not trained on: a cheap finer grid),
# RES_SIMS per class (20), RES_EPOCHS (5), RES_IMAGE_SIZE (16: the smallest
# grid's N/2), RES_SEED (7), RES_TEST_RANKS (2: ranks of each simulation of the
# test grids), RES_OUT (out/resolution).
set -euo pipefail
cd "$(dirname "$0")/.."
grids=${RES_GRIDS:-"32 64 128"} test_grids=${RES_TEST_GRIDS:-""} sims=${RES_SIMS:-20} epochs=${RES_EPOCHS:-5}
size=${RES_IMAGE_SIZE:-16} seed=${RES_SEED:-7} out=${RES_OUT:-out/resolution}
bin=${BIN:-bin}
mkdir -p "$out"
go build -tags "$(scripts/go-tags)" -o "$bin/" ./sim ./train ./analysis

# shellcheck source=scripts/fit.sh
. scripts/fit.sh
args=()
for n in $grids; do
	d=$out/$n
	mkdir -p "$d"
	if [ ! -f "$d/manifest.csv" ]; then
		"$bin/sim" plan --preset demo --seed "$seed" --grid "$n" --kolmogorov "$sims" --burgers "$sims" --sweep 0 --out "$d/manifest.csv"
	fi
	rows=$(grep -vc -e '^#' -e '^id,' "$d/manifest.csv")
	per=2
	echo "== simulating $rows boxes at ${n}³ (finished ones are skipped)"
	for ((k = 0; k < (rows + per - 1) / per; k++)); do
		"$bin/sim" task --manifest "$d/manifest.csv" --outdir "$d/snaps" --task-id "$k" --per-task "$per" --log-every 1h 2>>"$out/sim.log"
	done
	"$bin/sim" status --manifest "$d/manifest.csv" --outdir "$d/snaps"
	echo "== the CNN at ${n}³ on ${size}² images"
	fit_run "$d/cnn" "$epochs" "$out/train.log" --manifest "$d/manifest.csv" --snapshots "$d/snaps" --task classify \
		--image-size "$size" --cache "$d/cache"
	args+=(--campaign "$d/manifest.csv,$d/snaps,$d/cnn")
done

for n in $test_grids; do
	d=$out/$n
	mkdir -p "$d"
	if [ ! -f "$d/manifest.csv" ]; then
		"$bin/sim" plan --preset demo --seed "$seed" --grid "$n" --kolmogorov "$sims" --burgers "$sims" --sweep 0 --out "$d/manifest.csv"
	fi
	# With one simulation per task, task k runs row k: only the holdout rows,
	# one at a time on RES_TEST_RANKS ranks (the results do not depend on it).
	holdout=$(grep -v -e '^#' -e '^id,' "$d/manifest.csv" | awk -F, '$5 == "holdout" { print NR - 1 }')
	echo "== simulating the $(echo $holdout | wc -w) holdout boxes at ${n}³ (finished ones are skipped)"
	for k in $holdout; do
		"$bin/sim" task --manifest "$d/manifest.csv" --outdir "$d/snaps" --task-id "$k" --per-task 1 --ranks "${RES_TEST_RANKS:-2}" \
			--log-every 1h 2>>"$out/sim.log"
	done
	args+=(--campaign "$d/manifest.csv,$d/snaps")
done

echo "== cross-resolution matrix and spectra"
"$bin/analysis" resolution "${args[@]}" --image-size "$size" --cache "$out/cache" --out "$out/report" 2>>"$out/analysis.log"
