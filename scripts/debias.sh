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
# (out/demo), DEMO_EPOCHS (8), DEMO_NET (see demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
lambdas=${DEBIAS_LAMBDAS:-"0 0.3 1"} epochs=${DEMO_EPOCHS:-8} out=${DEMO_OUT:-out/demo}
read -ra net <<<"${DEMO_NET---filters 8,16,32,32 --dense 64,32}"
bin=${BIN:-bin}
if [ ! -f "$out/manifest.csv" ]; then
	echo "debias.sh: no campaign in $out: run make demo first (or set DEMO_OUT)" >&2
	exit 2
fi
go build -tags "$(scripts/go-tags)" -o "$bin/" ./train ./analysis
# shellcheck source=scripts/fit.sh
. scripts/fit.sh
for l in $lambdas; do
	echo "== the amplitude debiased at λ = $l"
	fit_run "$out/cnn-debias-$l" "$epochs" "$out/train.log" --manifest "$out/manifest.csv" --snapshots "$out/snaps" \
		--task classify --cache "$out/cache" "${net[@]}" --debias amplitude --debias-lambda "$l"
	"$bin/train" probe --run "$out/cnn-debias-$l" 2>>"$out/train.log"
done
echo "== the report, with the debiasing runs"
scripts/demo.sh
