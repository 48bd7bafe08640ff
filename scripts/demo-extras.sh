#!/usr/bin/env bash
# The longer parts of the study on the demo's campaign (run `make demo`
# first): transfer learning (the classifier from the regressor's
# convolutions against from scratch, on 10/30/100 % of the training
# simulations), a hyper-parameter search (scripts/demo-space.toml, one trial
# per call as a SLURM array would run them), the classifier trained with zoom
# augmentation, and the autoencoder that tells whether an observed map looks
# like the simulations; then the demo's report is rewritten with them
# (scripts/demo.sh reuses everything else). Finished work is reused.
#
# Sizes (environment): DEMO_TRIALS (4), DEMO_AE_EPOCHS (5), and the demo's
# DEMO_OUT (out/demo), DEMO_EPOCHS (8), DEMO_NET (see demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${DEMO_EPOCHS:-8} out=${DEMO_OUT:-out/demo} trials=${DEMO_TRIALS:-4}
read -ra net <<<"${DEMO_NET---filters 8,16,32,32 --dense 64,32}"
bin=${BIN:-bin}
manifest=$out/manifest.csv
if [ ! -f "$manifest" ]; then
	echo "demo-extras.sh: no campaign in $out: run make demo first (or set DEMO_OUT)" >&2
	exit 2
fi
go build -tags "$(scripts/go-tags)" -o "$bin/" ./train ./analysis
# shellcheck source=scripts/fit.sh
. scripts/fit.sh

echo "== the classifier trained with zoom augmentation"
fit_run "$out/cnn-augment-zoom" "$epochs" "$out/train.log" --manifest "$manifest" --snapshots "$out/snaps" \
	--task classify --cache "$out/cache" "${net[@]}" --augment zoom
"$bin/train" eval --run "$out/cnn-augment-zoom" 2>>"$out/train.log"

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

echo "== the autoencoder of the training images (train predict --autoencoder)"
ae=$out/autoencoder
if [ ! -f "$ae/autoencoder.json" ]; then
	rm -rf "$ae"
	"$bin/train" fit --manifest "$manifest" --snapshots "$out/snaps" --task autoencode --epochs "${DEMO_AE_EPOCHS:-5}" \
		--lr 3e-3 --cache "$out/cache" --out "$ae" --log-every 1h 2>>"$out/train.log"
fi

echo "== the report, with all of these"
scripts/demo.sh
