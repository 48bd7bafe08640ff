#!/usr/bin/env bash
# The whole study on one machine: plan a small campaign, simulate it, train
# the CNN classifier under three normalisations (the protocols: training-set
# standardisation, per-image standardisation, the talk's 8-bit images) and
# the regressor, run the baselines (HOG + SVM/SVR, power-spectrum slope,
# moments of log Σ, logistic regression) and write the report.
# Re-running reuses finished work (verified snapshots, finished trainings).
#
# Sizes (environment): DEMO_GRID (64), DEMO_SIMS per class (20), DEMO_EPOCHS (10),
# DEMO_TRIALS of the hyper-parameter search (4), DEMO_OUT (out/demo). The paper: 2000 simulations at 500³, 250² images.
set -euo pipefail
cd "$(dirname "$0")/.."
grid=${DEMO_GRID:-64} sims=${DEMO_SIMS:-20} epochs=${DEMO_EPOCHS:-10} out=${DEMO_OUT:-out/demo}
trials=${DEMO_TRIALS:-4}
bin=${BIN:-bin}
mkdir -p "$out"
go build -o "$bin/" ./sim ./train ./analysis

manifest=$out/manifest.csv
if [ ! -f "$manifest" ]; then
	"$bin/sim" plan --preset demo --grid "$grid" --kolmogorov "$sims" --burgers "$sims" --sweep "$sims" --out "$manifest"
fi
rows=$(grep -vc -e '^#' -e '^id,' "$manifest")
per=2 # two simulations at a time, one per core
echo "== simulating $rows boxes at ${grid}³ (finished ones are skipped)"
for ((k = 0; k < (rows + per - 1) / per; k++)); do
	"$bin/sim" task --manifest "$manifest" --outdir "$out/snaps" --task-id "$k" --per-task "$per" --log-every 1h 2>>"$out/sim.log"
done
"$bin/sim" status --manifest "$manifest" --outdir "$out/snaps"

fit() { # task run-directory [train fit flags of a new run...]
	local task=$1 run=$out/$2 done=0
	shift 2
	[ -f "$run/history.csv" ] && done=$(($(wc -l <"$run/history.csv") - 1))
	if [ "$done" -ge "$epochs" ]; then
		echo "== $run: trained already ($done epochs)"
	elif [ "$done" -gt 0 ]; then
		"$bin/train" fit --resume --out "$run" --epochs "$epochs" --log-every 1h 2>>"$out/train.log"
	else
		"$bin/train" fit --manifest "$manifest" --snapshots "$out/snaps" --task "$task" --epochs "$epochs" \
			--cache "$out/cache" --out "$run" --log-every 1h "$@" 2>>"$out/train.log"
	fi
	"$bin/train" eval --run "$run" 2>>"$out/train.log"
}
echo "== training the CNN ($epochs epochs; classifier under three normalisations)"
fit classify cnn-classify
fit classify cnn-image --normalise image
fit classify cnn-keras8 --normalise keras8
"$bin/train" embed --run "$out/cnn-classify" 2>>"$out/train.log"
"$bin/train" saliency --run "$out/cnn-classify" 2>>"$out/train.log"
fit regress cnn-regress
echo "== training the CNN with augmentation (beam and noise; zoom)"
fit classify cnn-augment-beam-noise --augment beam,noise
fit classify cnn-augment-zoom --augment zoom
extra=(--cnn-augmented "$out/cnn-augment-beam-noise,$out/cnn-augment-zoom")
# The debiasing runs of scripts/debias.sh, when there are any.
debias=$(for p in "$out"/cnn-debias-*/probe.json; do if [ -f "$p" ]; then dirname "$p"; fi; done | paste -sd, -)
[ -n "$debias" ] && extra+=(--cnn-debias "$debias")

echo "== transfer learning: the classifier from the regressor's convolutions, against from scratch"
"$bin/train" transfer --source "$out/cnn-regress" --fractions 0.1,0.3,1 --epochs "$epochs" \
	--out "$out/transfer" --log-every 1h 2>>"$out/train.log"

echo "== hyper-parameter search (scripts/demo-space.toml; finished trials are skipped)"
"$bin/train" search --space scripts/demo-space.toml --trials "$trials" --manifest "$manifest" --snapshots "$out/snaps" \
	--cache "$out/cache" --out "$out/search" >/dev/null
for ((i = 0; i < trials; i++)); do # what the SLURM array runs, one trial per task
	"$bin/train" search --trial "$i" --out "$out/search" --log-every 1h >/dev/null 2>>"$out/train.log"
done
"$bin/train" search --summarise --out "$out/search" 2>>"$out/train.log"

echo "== baselines and report"
"$bin/analysis" run --manifest "$manifest" --snapshots "$out/snaps" --cache "$out/cache" \
	--cnn "$out/cnn-classify,$out/cnn-image,$out/cnn-keras8" --cnn-regress "$out/cnn-regress" "${extra[@]}" \
	--transfer "$out/transfer" --search "$out/search" --out "$out/report" 2>>"$out/analysis.log"

# An observed map, with a holdout simulation's Σ_z map (exported to FITS as a
# user would get it) standing in for the sky, and a synthetic map unlike the
# simulations (another power-spectrum slope and amplitude, point sources).
echo "== an observed map: predict, the autoencoder and the realism check"
ae=$out/autoencoder maps=$out/maps
if [ ! -f "$ae/autoencoder.json" ]; then
	rm -rf "$ae"
	"$bin/train" fit --manifest "$manifest" --snapshots "$out/snaps" --task autoencode --epochs "${DEMO_AE_EPOCHS:-5}" \
		--lr 3e-3 --cache "$out/cache" --out "$ae" --log-every 1h 2>>"$out/train.log"
fi
holdout=$(grep -m1 ',kolmogorov,.*,holdout$' "$manifest" | cut -d, -f1)
"$bin/sim" export --snapshot "$out/snaps/$holdout.tsnap" --format fits --fields sigma_z --out "$maps" --force >/dev/null
[ -f "$maps/synthetic.fits" ] || "$bin/train" synthmap --out "$maps/synthetic.fits" --size 128 \
	--pixel-scale "$(sed -n 's/.*"pixel_pc": *\([0-9.eE+-]*\).*/\1/p' "$out/cnn-classify/config.json")" >/dev/null
for map in "$maps/${holdout}_sigma_z.fits" "$maps/synthetic.fits"; do
	name=$(basename "$map" .fits)
	echo "-- $name"
	"$bin/train" predict --run "$out/cnn-classify" --fits "$map" --autoencoder "$ae" --out "$out/observe/$name" 2>>"$out/train.log"
	"$bin/train" realism --run "$out/cnn-classify" --fits "$map" --out "$out/observe/$name" 2>>"$out/train.log"
done
