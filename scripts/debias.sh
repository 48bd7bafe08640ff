#!/usr/bin/env bash
# Adversarial debiasing on the demo's campaign (run `make demo` first): CNN
# classifiers trained with a nuisance head that predicts the amplitude of
# the image (the standard deviation of log Σ) through a gradient reversal
# layer of weight λ, for each λ; `train probe` measures each one's holdout
# accuracy and how well a linear probe still reads the amplitude off its
# embedding (probe.json); then the demo's report is rewritten with the
# debiasing table and figure (scripts/demo.sh reuses everything else).
#
# Sizes (environment): DEBIAS_LAMBDAS ("0 0.3 1"), and the demo's DEMO_OUT
# (out/demo), DEMO_EPOCHS (10).
set -euo pipefail
cd "$(dirname "$0")/.."
lambdas=${DEBIAS_LAMBDAS:-"0 0.3 1"} epochs=${DEMO_EPOCHS:-10} out=${DEMO_OUT:-out/demo}
bin=${BIN:-bin}
if [ ! -f "$out/manifest.csv" ]; then
	echo "debias.sh: no campaign in $out: run make demo first (or set DEMO_OUT)" >&2
	exit 2
fi
go build -o "$bin/" ./train ./analysis
for l in $lambdas; do
	run=$out/cnn-debias-$l done=0
	[ -f "$run/history.csv" ] && done=$(($(wc -l <"$run/history.csv") - 1))
	if [ "$done" -ge "$epochs" ]; then
		echo "== λ = $l: trained already ($done epochs)"
	elif [ "$done" -gt 0 ]; then
		"$bin/train" fit --resume --out "$run" --epochs "$epochs" --log-every 1h 2>>"$out/train.log"
	else
		echo "== training with the amplitude debiased at λ = $l ($epochs epochs)"
		"$bin/train" fit --manifest "$out/manifest.csv" --snapshots "$out/snaps" --task classify --epochs "$epochs" \
			--cache "$out/cache" --debias amplitude --debias-lambda "$l" --out "$run" --log-every 1h 2>>"$out/train.log"
	fi
	"$bin/train" probe --run "$run" 2>>"$out/train.log"
done
echo "== the report, with the debiasing runs"
scripts/demo.sh
