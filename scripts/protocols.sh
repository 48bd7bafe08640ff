#!/usr/bin/env bash
# The methods × protocols table on any campaign: trains the CNN classifier
# three ways (training-set standardisation, per-image standardisation, the
# talk's 8-bit grey images: train fit --normalise train|image|keras8) and,
# when the campaign has sweep simulations, the regressor; evaluates each
# (holdout, threshold chosen on the test split, reliability); then runs
# `analysis run` with the three runs side by side. Finished runs are reused.
#
#	scripts/protocols.sh MANIFEST SNAPSHOTS OUT
#
# Sizes (environment): PROTO_EPOCHS (20), PROTO_IMAGE_SIZE (64; 0 = N/2),
# PROTO_NET (the network's flags, e.g. "--filters 8,16,32,32 --dense 64,32";
# empty, the default network), and ANALYSIS_FLAGS (extra flags of analysis run, e.g. "--tsne-points 2000").
set -euo pipefail
if [ $# -ne 3 ]; then
	echo "usage: scripts/protocols.sh MANIFEST SNAPSHOTS OUT" >&2
	exit 2
fi
manifest=$(realpath "$1") snaps=$(realpath "$2") out=$(realpath -m "$3")
epochs=${PROTO_EPOCHS:-20} size=${PROTO_IMAGE_SIZE:-64}
read -ra net <<<"${PROTO_NET:-}"
cd "$(dirname "$0")/.."
bin=${BIN:-bin}
go build -tags "$(scripts/go-tags)" -o "$bin/" ./train ./analysis
mkdir -p "$out"
# shellcheck source=scripts/fit.sh
. scripts/fit.sh
fit() { # task run-directory [train fit flags of a new run...]
	local task=$1 run=$out/$2
	shift 2
	fit_run "$run" "$epochs" "$out/train.log" --manifest "$manifest" --snapshots "$snaps" --task "$task" \
		--image-size "$size" --cache "$out/cache" "${net[@]}" "$@"
	"$bin/train" eval --run "$run" 2>>"$out/train.log"
}
runs=()
for n in train image keras8; do
	fit classify "cnn-$n" --normalise "$n"
	runs+=("$out/cnn-$n")
done
extra=()
if grep -q ',sweep,' "$manifest"; then
	fit regress cnn-regress
	extra+=(--cnn-regress "$out/cnn-regress")
fi
"$bin/train" embed --run "$out/cnn-train" 2>>"$out/train.log"
echo "== analysis"
# shellcheck disable=SC2086 # ANALYSIS_FLAGS is a list of flags
"$bin/analysis" run --manifest "$manifest" --snapshots "$snaps" --cache "$out/cache" --image-size "$size" \
	--cnn "$(IFS=,; echo "${runs[*]}")" "${extra[@]}" ${ANALYSIS_FLAGS:-} --out "$out/report" 2>>"$out/analysis.log"
