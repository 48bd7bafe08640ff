#!/usr/bin/env bash
# The paper's counts end to end on one machine, measured: the paper preset
# (500 Kolmogorov + 500 Burgers + 1000 sweep simulations, 96 000 images) at a
# reduced grid with full-size images. Stages: plan, simulate, image cache,
# train fit + eval (classify and regress), embed, analysis run. Prints one
# table: each stage's wall time, CPU time (user + system, all its
# processes: on a shared machine the steadier figure), peak RSS in MiB (the
# largest process of the stage, from GNU time) and the disk used by the
# campaign directory after it (MiB).
#
# Environment: GRID (64), SIZE (image side, 250), EPOCHS (3), OUT
# (out/paper-scale), NET (network flags for train fit, e.g. "--filters
# 8,16,32,32 --dense 64,32"; default: train fit's own network), SVM_CACHE
# (MiB, the kernel cache of each SVM fit; default: analysis run's, the whole
# kernel matrix where the memory allows, 5625 at the paper's 38 400
# vectors), and for a reduced campaign KOLMOGOROV, BURGERS, SWEEP (default:
# the preset's 500, 500, 1000). PER_TASK simulations run at once (2).
# Re-running reuses finished simulations; the trainings and the report start
# afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
grid=${GRID:-64} size=${SIZE:-250} epochs=${EPOCHS:-3} out=${OUT:-out/paper-scale}
per=${PER_TASK:-2} bin=${BIN:-bin}
read -r -a net <<<"${NET:-}"
svmcache=()
[ -n "${SVM_CACHE:-}" ] && svmcache=(--svm-cache "$SVM_CACHE")
timefmt=/usr/bin/time
[ -x "$timefmt" ] || { echo "paper-scale: needs GNU time (/usr/bin/time, Debian package time)" >&2; exit 1; }
mkdir -p "$out"
go build -tags "$(scripts/go-tags)" -o "$bin/" ./sim ./train ./analysis

table=$out/table.tsv
printf 'stage\twall_s\tcpu_s\tpeak_rss_mib\tdisk_mib\n' >"$table"
stage() { # name command...: runs the command under GNU time, adds a row
	local name=$1
	shift
	echo "== $name"
	"$timefmt" -o "$out/.time" -f '%e %M %U %S' "$@"
	read -r wall rss user sys <"$out/.time"
	printf '%s\t%.0f\t%.0f\t%.0f\t%s\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" "$((rss / 1024))" "$(du -sm "$out" | cut -f1)" >>"$table"
}

manifest=$out/manifest.csv
counts=()
[ -n "${KOLMOGOROV:-}" ] && counts+=(--kolmogorov "$KOLMOGOROV")
[ -n "${BURGERS:-}" ] && counts+=(--burgers "$BURGERS")
[ -n "${SWEEP:-}" ] && counts+=(--sweep "$SWEEP")
stage plan "$bin/sim" plan --preset paper --grid "$grid" "${counts[@]}" --out "$manifest" --force
rows=$(grep -vc -e '^#' -e '^id,' "$manifest")

simulate() {
	for ((k = 0; k < (rows + per - 1) / per; k++)); do
		"$bin/sim" task --manifest "$manifest" --outdir "$out/snaps" --task-id "$k" --per-task "$per" --log-every 1h 2>>"$out/sim.log"
	done
}
export -f simulate
export bin manifest out per rows
stage "simulate ($rows at ${grid}³)" bash -c simulate

# The image cache holds every image once (train, eval, embed and analysis
# share it): up to 4 bytes a pixel before compression.
need=$((rows * 48 * 4 * size * size / 1000000))
free=$(($(df -Pk "$out" | awk 'NR == 2 { print $4 }') / 1000))
if [ "$need" -gt "$free" ]; then
	echo "paper-scale: the image cache of $rows simulations at ${size}² needs up to $need MB, $out has $free MB free" >&2
	exit 1
fi
stage "image cache (${size}²)" "$bin/train" cache --manifest "$manifest" --snapshots "$out/snaps" --cache "$out/cache" \
	--image-size "$size" 2>>"$out/train.log"

for task in classify regress; do
	run=$out/cnn-$task
	rm -rf "$run"
	stage "train fit $task ($epochs epochs)" "$bin/train" fit --manifest "$manifest" --snapshots "$out/snaps" --task "$task" \
		"${net[@]}" --epochs "$epochs" --image-size "$size" --cache "$out/cache" --out "$run" --log-every 5m 2>>"$out/train.log"
	stage "train eval $task" "$bin/train" eval --run "$run" 2>>"$out/train.log"
done
stage "train embed" "$bin/train" embed --run "$out/cnn-classify" 2>>"$out/train.log"
rm -rf "$out/report"
stage "analysis run" "$bin/analysis" run --manifest "$manifest" --snapshots "$out/snaps" --cache "$out/cache" \
	--image-size "$size" --cnn "$out/cnn-classify" --cnn-regress "$out/cnn-regress" "${svmcache[@]}" --out "$out/report" 2>>"$out/analysis.log"

echo
column -t -s $'\t' "$table"
