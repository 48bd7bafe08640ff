# shellcheck shell=bash
# Sourced by the study scripts (demo.sh, protocols.sh, debias.sh).
#
#	fit_run RUN EPOCHS LOG [train fit flags of a new run...]
#
# brings the training run in directory RUN to EPOCHS epochs: nothing when
# its history.csv has them already, --resume when it has fewer (an
# interrupted or shorter run), else a new run with the flags given. The
# training's log lines go to LOG; $bin is the directory of the binaries.
fit_run() {
	local run=$1 epochs=$2 log=$3 done=0
	shift 3
	[ -f "$run/history.csv" ] && done=$(($(wc -l <"$run/history.csv") - 1))
	if [ "$done" -ge "$epochs" ]; then
		echo "== $run: trained already ($done epochs)"
	elif [ "$done" -gt 0 ]; then
		echo "== $run: resuming at epoch $((done + 1)) of $epochs"
		"$bin/train" fit --resume --out "$run" --epochs "$epochs" --log-every 1m 2>>"$log"
	else
		echo "== $run: training ($epochs epochs)"
		"$bin/train" fit --epochs "$epochs" --out "$run" --log-every 1m "$@" 2>>"$log"
	fi
}
