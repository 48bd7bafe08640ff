#!/usr/bin/env bash
# The whole study on one machine: plan a small campaign, simulate it, train
# the CNN classifier under three normalisations (the protocols: training-set
# standardisation, per-image standardisation, the talk's 8-bit images) and
# the regressor, run the baselines (HOG + SVM/SVR, power-spectrum slope,
# moments of log Σ, logistic regression) and write the report.
# Re-running reuses finished work (verified snapshots, finished trainings).
#
# Sizes (environment): DEMO_GRID (64), DEMO_SIMS per class (20), DEMO_EPOCHS (10),
# DEMO_OUT (out/demo). The paper: 2000 simulations at 500³, 250² images.
set -euo pipefail
cd "$(dirname "$0")/.."
grid=${DEMO_GRID:-64} sims=${DEMO_SIMS:-20} epochs=${DEMO_EPOCHS:-10} out=${DEMO_OUT:-out/demo}
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

echo "== baselines and report"
"$bin/analysis" run --manifest "$manifest" --snapshots "$out/snaps" --cache "$out/cache" \
	--cnn "$out/cnn-classify,$out/cnn-image,$out/cnn-keras8" --cnn-regress "$out/cnn-regress" "${extra[@]}" --out "$out/report" 2>>"$out/analysis.log"
