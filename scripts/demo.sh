#!/usr/bin/env bash
# The study on one machine in a few minutes: plan a small campaign, simulate
# it, train the CNN classifier under three normalisations (the protocols:
# training-set standardisation, per-image standardisation, the talk's 8-bit
# images), the regressor and a classifier trained on beamed and noisy maps;
# run the baselines (HOG + SVM/SVR, power-spectrum slope, moments of log Σ,
# logistic regression), the degradations, zoom, t-SNE and saliency; write the
# report; and try the classifier on two maps read from FITS as observations
# would be. Re-running reuses finished work (verified snapshots, finished
# trainings). The longer parts of the study on the same campaign have their
# own scripts, which add to this report: demo-extras.sh (transfer learning,
# hyper-parameter search, zoom augmentation, the autoencoder) and debias.sh.
#
# Sizes (environment): DEMO_GRID (64), DEMO_SIMS per class (20), DEMO_EPOCHS (8),
# DEMO_NET, the network's flags ("--filters 8,16,32,32 --dense 64,32": the default
# network with half its channels and units, four times cheaper; empty for the
# default), DEMO_OUT (out/demo). The paper: 2000 simulations at 500³, 250² images.
set -euo pipefail
cd "$(dirname "$0")/.."
grid=${DEMO_GRID:-64} sims=${DEMO_SIMS:-20} epochs=${DEMO_EPOCHS:-8} out=${DEMO_OUT:-out/demo}
read -ra net <<<"${DEMO_NET---filters 8,16,32,32 --dense 64,32}"
bin=${BIN:-bin}
mkdir -p "$out"
go build -tags "$(scripts/go-tags)" -o "$bin/" ./sim ./train ./analysis

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

# shellcheck source=scripts/fit.sh
. scripts/fit.sh
fit() { # task run-directory [train fit flags of a new run...]
	local task=$1 run=$out/$2
	shift 2
	fit_run "$run" "$epochs" "$out/train.log" --manifest "$manifest" --snapshots "$out/snaps" --task "$task" --cache "$out/cache" \
		"${net[@]}" "$@"
	"$bin/train" eval --run "$run" 2>>"$out/train.log"
}
echo "== training the CNN ($epochs epochs; the classifier under three normalisations, the regressor, the classifier on beamed and noisy maps)"
fit classify cnn-classify
fit classify cnn-image --normalise image
fit classify cnn-keras8 --normalise keras8
"$bin/train" embed --run "$out/cnn-classify" 2>>"$out/train.log"
"$bin/train" saliency --run "$out/cnn-classify" 2>>"$out/train.log"
fit regress cnn-regress
fit classify cnn-augment-beam-noise --augment beam,noise

# What demo-extras.sh and debias.sh trained on this campaign, when they have.
augmented=$out/cnn-augment-beam-noise extra=()
[ -f "$out/cnn-augment-zoom/best.cnn" ] && augmented+=",$out/cnn-augment-zoom"
extra+=(--cnn-augmented "$augmented")
[ -f "$out/transfer/transfer.csv" ] && extra+=(--transfer "$out/transfer")
[ -f "$out/search/winner.json" ] && extra+=(--search "$out/search")
debias=$(for p in "$out"/cnn-debias-*/probe.json; do if [ -f "$p" ]; then dirname "$p"; fi; done | paste -sd, -)
[ -n "$debias" ] && extra+=(--cnn-debias "$debias")

echo "== baselines, degradations and report"
"$bin/analysis" run --manifest "$manifest" --snapshots "$out/snaps" --cache "$out/cache" \
	--cnn "$out/cnn-classify,$out/cnn-image,$out/cnn-keras8" --cnn-regress "$out/cnn-regress" "${extra[@]}" \
	--out "$out/report" 2>>"$out/analysis.log"

# An observed map, with a holdout simulation's Σ_z map (exported to FITS as a
# user would get it) standing in for the sky, and a synthetic map unlike the
# simulations (another power-spectrum slope and amplitude, point sources).
# The autoencoder's check joins once demo-extras.sh has trained it.
echo "== an observed map: predict and the realism check"
maps=$out/maps ae=()
[ -f "$out/autoencoder/autoencoder.json" ] && ae=(--autoencoder "$out/autoencoder")
holdout=$(grep -m1 ',kolmogorov,.*,holdout$' "$manifest" | cut -d, -f1)
"$bin/sim" export --snapshot "$out/snaps/$holdout.tsnap" --format fits --fields sigma_z --out "$maps" --force >/dev/null
[ -f "$maps/synthetic.fits" ] || "$bin/train" synthmap --out "$maps/synthetic.fits" --size 128 \
	--pixel-scale "$(sed -n 's/.*"pixel_pc": *\([0-9.eE+-]*\).*/\1/p' "$out/cnn-classify/config.json")" >/dev/null
for map in "$maps/${holdout}_sigma_z.fits" "$maps/synthetic.fits"; do
	name=$(basename "$map" .fits)
	echo "-- $name"
	"$bin/train" predict --run "$out/cnn-classify" --fits "$map" "${ae[@]}" --out "$out/observe/$name" 2>>"$out/train.log"
	"$bin/train" realism --run "$out/cnn-classify" --fits "$map" --out "$out/observe/$name" 2>>"$out/train.log"
done
