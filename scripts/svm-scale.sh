#!/usr/bin/env bash
# HOG + SVM/SVR with C and γ chosen on a subsample (the default of
# `analysis run`) against the same choice by cross-validation on the whole
# training split, on one campaign whose images are cached: prints, for each,
# the grid the choice used, the chosen C and γ, the wall time of the
# analysis, and the holdout accuracy and AUC of HOG+SVM and the MSE of
# HOG+SVR (from metrics.json).
#
# Usage: scripts/svm-scale.sh CAMPAIGN_DIR (as written by paper-scale.sh:
# manifest.csv, snaps/, cache/). Environment: SUBSAMPLE (500), SIZE (250).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: scripts/svm-scale.sh CAMPAIGN_DIR}
sub=${SUBSAMPLE:-500} size=${SIZE:-250} bin=${BIN:-bin}
go build -tags "$(scripts/go-tags)" -o "$bin/" ./analysis
printf 'selection\twall_s\tsvm\tsvr\thog_svm_accuracy\thog_svm_auc\thog_svr_mse\n' >"$dir/svm-scale.tsv"
for s in "$sub" 0; do
	out=$dir/svm-scale-$s
	rm -rf "$out"
	start=$(date +%s.%N)
	"$bin/analysis" run --manifest "$dir/manifest.csv" --snapshots "$dir/snaps" --cache "$dir/cache" --image-size "$size" \
		--svm-subsample "$s" --zoom 1 --beam 1 --snr 100 --gradient 1 --tsne-points 50 --out "$out" 2>>"$dir/svm-scale.log" >/dev/null
	wall=$(echo "$(date +%s.%N) - $start" | bc)
	/usr/bin/python3 - "$out/metrics.json" "$s" "$wall" >>"$dir/svm-scale.tsv" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
p = m.get("parameters", {})
def row(title, method, col):
    for t in m.get("tables", []):
        if t["title"].startswith(title):
            for r in t["rows"]:
                if r["method"] == method:
                    return r["values"].get(col, float("nan"))
    return float("nan")
sel = "all" if sys.argv[2] == "0" else "subsample " + sys.argv[2]
print("\t".join([sel, "%.0f" % float(sys.argv[3]), p.get("svm", ""), p.get("svr", ""),
    "%.3f" % row("Kolmogorov vs Burgers", "HOG+SVM", "accuracy"), "%.3f" % row("Kolmogorov vs Burgers", "HOG+SVM", "auc"),
    "%.4g" % row("Spectral index", "HOG+SVR", "mse")]))
PY
done
column -t -s $'\t' "$dir/svm-scale.tsv"
