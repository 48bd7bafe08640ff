#!/usr/bin/env bash
# Submit a turbindex campaign to SLURM: the simulation array, then the training job
# (--dependency=afterok on the whole array), then the analysis job (afterok on training).
# A dependent job is cancelled if what it waits for fails (--kill-on-invalid-dep=yes).
#
# usage: [VAR=value ...] slurm/submit.sh [--dry-run] [--search] [--help]
#
# --search submits a hyper-parameter search instead: the array of its trials (one task per row of
# SEARCH_DIR/trials.csv, written by `train search --space ...`), then the summary job
# (--dependency=afterok on the array); it prints search=ID and summarise=ID.
#
# Prints the job IDs on stdout, one per line: sim=ID, train=ID, analysis=ID (only the STAGES
# submitted); messages go to stderr. --dry-run prints the sbatch commands instead of running them.
#
# Run it from the campaign directory (it can be anywhere; the script finds the repository from
# its own path): that directory is the jobs' working directory (WORKDIR), relative paths in the
# variables below are relative to it, and the logs go to WORKDIR/logs/. Every variable is
# optional; the defaults are listed in slurm/README.md. The most used:
#
#   MANIFEST=manifest.csv OUTDIR=snaps PER_TASK=1   rows per array task (array range from the manifest)
#   PARALLEL=            rows a task runs at once without MPI (default: CPUs / RANKS, memory allowing)
#   ARRAY=3,7            resubmit just these tasks (the list `sim status` prints); default: all
#   RANKS=1 MPI=         ranks per simulation; MPI=pmix (Open MPI) or pmi2 (MPICH) runs them as
#                        MPI ranks with srun (bin/sim from `make build-mpi`), empty: in-process
#   ACCOUNT= PARTITION= QOS= TIME=01:00:00 THROTTLE=100 MEM_PER_CPU= MODULES= SETUP=
#   TRAIN_GRES=gpu:1 (empty: no GPU) TRAIN_CMD=... ANALYSIS_CMD=... STAGES=sim,train,analysis
#   --search: SEARCH_DIR=search SEARCH_CPUS=2 SEARCH_TIME=01:00:00 SEARCH_GRES= (ARRAY, THROTTLE too)
#
# Examples:
#   slurm/submit.sh                                        # the whole campaign in manifest.csv
#   ARRAY=3,7 slurm/submit.sh                              # rerun two failed tasks, then train+analysis
#   MPI=pmix RANKS=16 MEM_PER_CPU=2500M PER_TASK=2 ACCOUNT=astro PARTITION=compute slurm/submit.sh
#   SEARCH_DIR=search THROTTLE=8 slurm/submit.sh --search    # after train search --space ... --out search
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; }
die() {
	echo "submit.sh: $*" >&2
	exit 1
}
info() { echo "submit.sh: $*" >&2; }

DRY_RUN=${DRY_RUN:-}
SEARCH=
for a in "$@"; do
	case $a in
	-h | --help)
		usage
		exit 0
		;;
	-n | --dry-run) DRY_RUN=1 ;;
	--search) SEARCH=1 ;;
	*) die "unknown argument '$a' (settings are environment variables; see --help)" ;;
	esac
done

WORKDIR=${WORKDIR:-$PWD}
WORKDIR=$(cd "$WORKDIR" && pwd) || die "WORKDIR $WORKDIR does not exist"
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$WORKDIR/$1" ;; esac }

# --- settings (defaults documented in slurm/README.md) ---
STAGES=${STAGES:-sim,train,analysis}
SIM=$(abs "${SIM:-$REPO/bin/sim}")
TRAIN=$(abs "${TRAIN:-$REPO/bin/train}")
ANALYSIS=$(abs "${ANALYSIS:-$REPO/bin/analysis}")
MANIFEST=$(abs "${MANIFEST:-manifest.csv}")
OUTDIR=$(abs "${OUTDIR:-snaps}")
LOGDIR=$(abs "${LOGDIR:-logs}")
RUN_DIR=$(abs "${RUN_DIR:-run}")
REPORT_DIR=$(abs "${REPORT_DIR:-report}")
PER_TASK=${PER_TASK:-1}
PARALLEL=${PARALLEL:-}
RANKS=${RANKS:-1}
MPI=${MPI:-}
CPUS_PER_TASK=${CPUS_PER_TASK:-}
MEM_PER_CPU=${MEM_PER_CPU:-}
TIME=${TIME:-01:00:00}
SIGNAL=${SIGNAL:-USR1@120}
THROTTLE=${THROTTLE-100}
ARRAY=${ARRAY:-}
MAX_REQUEUE=${MAX_REQUEUE:-3}
CHECKPOINT_EVERY=${CHECKPOINT_EVERY:-}
SIM_ARGS=${SIM_ARGS:-}
SRUN_ARGS=${SRUN_ARGS:-}
ACCOUNT=${ACCOUNT:-}
PARTITION=${PARTITION:-}
QOS=${QOS:-}
MODULES=${MODULES:-}
SETUP=${SETUP:-}
DEPEND=${DEPEND:-}
EXTRA_SBATCH_ARGS=${EXTRA_SBATCH_ARGS:-}
SIM_SBATCH_ARGS=${SIM_SBATCH_ARGS:-}
TRAIN_PARTITION=${TRAIN_PARTITION:-$PARTITION}
TRAIN_GRES=${TRAIN_GRES-gpu:1}
TRAIN_CPUS=${TRAIN_CPUS:-8}
TRAIN_MEM=${TRAIN_MEM:-}
TRAIN_TIME=${TRAIN_TIME:-04:00:00}
TRAIN_TASK=${TRAIN_TASK:-classify}
EPOCHS=${EPOCHS:-30}
TRAIN_CMD=${TRAIN_CMD:-}
TRAIN_SBATCH_ARGS=${TRAIN_SBATCH_ARGS:-}
ANALYSIS_PARTITION=${ANALYSIS_PARTITION:-$PARTITION}
ANALYSIS_CPUS=${ANALYSIS_CPUS:-8}
ANALYSIS_MEM=${ANALYSIS_MEM:-}
ANALYSIS_TIME=${ANALYSIS_TIME:-02:00:00}
ANALYSIS_CMD=${ANALYSIS_CMD:-}
ANALYSIS_SBATCH_ARGS=${ANALYSIS_SBATCH_ARGS:-}
SEARCH_DIR=$(abs "${SEARCH_DIR:-search}")
SEARCH_CPUS=${SEARCH_CPUS:-2}
SEARCH_TIME=${SEARCH_TIME:-01:00:00}
SEARCH_GRES=${SEARCH_GRES:-}
SEARCH_MEM=${SEARCH_MEM:-}
SEARCH_ARGS=${SEARCH_ARGS:-}
SEARCH_SBATCH_ARGS=${SEARCH_SBATCH_ARGS:-}

int() { [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] || die "$1 must be a positive integer, not '$2'"; }
int PER_TASK "$PER_TASK"
[ -z "$PARALLEL" ] || int PARALLEL "$PARALLEL"
int RANKS "$RANKS"
[[ $MAX_REQUEUE =~ ^[0-9]+$ ]] || die "MAX_REQUEUE must be a non-negative integer, not '$MAX_REQUEUE'"
[ -z "$THROTTLE" ] || int THROTTLE "$THROTTLE"
[ -z "$CPUS_PER_TASK" ] || int CPUS_PER_TASK "$CPUS_PER_TASK"
want() { [[ ",$STAGES," == *",$1,"* ]]; }
for s in ${STAGES//,/ }; do
	case $s in sim | train | analysis) ;; *) die "STAGES: unknown stage '$s' (sim, train, analysis)" ;; esac
done
[ -n "$STAGES" ] || die "STAGES is empty"

# The variables the sbatch scripts read (sbatch --export=ALL passes them on).
export SEARCH_DIR SEARCH_ARGS
export SIM TRAIN ANALYSIS MANIFEST OUTDIR RUN_DIR REPORT_DIR PER_TASK PARALLEL RANKS MPI MAX_REQUEUE \
	CHECKPOINT_EVERY SIM_ARGS SRUN_ARGS MODULES SETUP TRAIN_TASK EPOCHS TRAIN_CMD ANALYSIS_CMD

split() { read -r -a "$1" <<<"$2"; } # a word list from a string
common=(--parsable --export=ALL --chdir="$WORKDIR")
[ -n "$ACCOUNT" ] && common+=(--account="$ACCOUNT")
[ -n "$QOS" ] && common+=(--qos="$QOS")
split extra "$EXTRA_SBATCH_ARGS"
common+=("${extra[@]}")

if [ -z "$DRY_RUN" ]; then
	command -v sbatch >/dev/null 2>&1 || die "sbatch not found: is this a SLURM login node (or module load slurm)?"
fi

# sbatch wrapper: prints the job id (or, in a dry run, the command and a placeholder).
submit() { # STAGE ARGS...
	local stage=$1 out
	shift
	if [ -n "$DRY_RUN" ]; then
		printf '+ sbatch' >&2
		printf ' %q' "$@" >&2
		printf '\n' >&2
		echo "<$stage>"
		return 0
	fi
	out=$(sbatch "$@") || return 1
	echo "${out%%;*}" # --parsable prints id[;cluster]
}

mkdir -p "$LOGDIR"
prev=$DEPEND # what the next stage waits for (afterok:ID...)
printed=()

# --- a hyper-parameter search: the trials' array, then the summary ---
if [ -n "$SEARCH" ]; then
	int SEARCH_CPUS "$SEARCH_CPUS"
	[ -x "$TRAIN" ] || info "warning: TRAIN=$TRAIN is not an executable yet (make build before the jobs start)"
	trials=$SEARCH_DIR/trials.csv
	[ -f "$SEARCH_DIR/search.json" ] && [ -f "$trials" ] ||
		die "SEARCH_DIR=$SEARCH_DIR holds no planned search: run train search --space SPACE --manifest ... --snapshots ... --out $SEARCH_DIR first"
	if [ -z "$ARRAY" ]; then
		rows=$(($(wc -l <"$trials") - 1)) # the header, then one line per trial
		[ "$rows" -gt 0 ] || die "$trials has no trials"
		ARRAY="0-$((rows - 1))"
		info "$rows trials: --array=$ARRAY"
	fi
	spec=$ARRAY
	[ -n "$THROTTLE" ] && [[ $spec != *%* ]] && spec="$spec%$THROTTLE"
	args=("${common[@]}" --array="$spec" --output="$LOGDIR/%x_%A_%a.out" --time="$SEARCH_TIME" --signal="$SIGNAL"
		--ntasks=1 --cpus-per-task="$SEARCH_CPUS")
	[ -n "$TRAIN_PARTITION" ] && args+=(--partition="$TRAIN_PARTITION")
	[ -n "$SEARCH_GRES" ] && args+=(--gres="$SEARCH_GRES")
	[ -n "$SEARCH_MEM" ] && args+=(--mem="$SEARCH_MEM")
	[ -n "$prev" ] && args+=(--dependency="$prev" --kill-on-invalid-dep=yes)
	split extra "$SEARCH_SBATCH_ARGS"
	args+=("${extra[@]}")
	id=$(submit search "${args[@]}" "$REPO/slurm/search.sbatch") || die "submitting the search array failed"
	echo "search=$id"
	printed+=("search=$id")
	args=("${common[@]}" --job-name=turbindex-search-summary --output="$LOGDIR/%x_%j.out" --time="$SEARCH_TIME"
		--ntasks=1 --cpus-per-task="$SEARCH_CPUS" --dependency="afterok:$id" --kill-on-invalid-dep=yes)
	[ -n "$TRAIN_PARTITION" ] && args+=(--partition="$TRAIN_PARTITION")
	[ -n "$SEARCH_MEM" ] && args+=(--mem="$SEARCH_MEM")
	args+=("${extra[@]}")
	id=$(submit summarise "${args[@]}" "$REPO/slurm/search.sbatch") ||
		die "submitting the summary failed; the array is ${printed[*]}: cancel it with scancel, or submit the summary by hand"
	echo "summarise=$id"
	printed+=("summarise=$id")
	[ -n "$DRY_RUN" ] || info "submitted ${printed[*]}; logs in $LOGDIR; watch with: squeue -u $(id -un)"
	exit 0
fi

# --- the simulation array ---
if want sim; then
	[ -x "$SIM" ] || die "SIM=$SIM is not an executable (make build, or make build-mpi for MPI=pmix)"
	[ -f "$MANIFEST" ] || die "MANIFEST=$MANIFEST does not exist (sim plan --preset paper --out $MANIFEST)"
	if [ -z "$ARRAY" ]; then
		# Data rows: every line that is not blank, not a # comment and not the header (id,...).
		rows=$(awk -F, '/^[[:space:]]*(#|$)/ {next} !seen++ && $1 ~ /^[[:space:]]*id[[:space:]]*$/ {next} {n++} END {print n+0}' "$MANIFEST")
		[ "$rows" -gt 0 ] || die "MANIFEST=$MANIFEST has no rows"
		tasks=$(((rows + PER_TASK - 1) / PER_TASK))
		ARRAY="0-$((tasks - 1))"
		info "$rows simulations, $PER_TASK per task: --array=$ARRAY"
		if [ -z "$DRY_RUN" ]; then
			max=$(scontrol show config 2>/dev/null | awk '$1 == "MaxArraySize" {print $3}')
			if [[ $max =~ ^[0-9]+$ ]] && [ "$((tasks - 1))" -ge "$max" ]; then
				die "the array needs indices up to $((tasks - 1)), but this cluster's MaxArraySize is $max (largest index $((max - 1))): raise PER_TASK to at least $(((rows + max - 1) / max))"
			fi
		fi
	fi
	spec=$ARRAY
	[ -n "$THROTTLE" ] && [[ $spec != *%* ]] && spec="$spec%$THROTTLE"
	if [ -n "$MPI" ] && [ "$MPI" != none ]; then
		res=(--ntasks="$RANKS" --cpus-per-task="${CPUS_PER_TASK:-1}")
	else
		# sim task runs PARALLEL rows at once (default PER_TASK), RANKS CPUs each.
		res=(--ntasks=1 --cpus-per-task="${CPUS_PER_TASK:-$((${PARALLEL:-$PER_TASK} * RANKS))}")
	fi
	args=("${common[@]}" --array="$spec" --output="$LOGDIR/%x_%A_%a.out" --time="$TIME" --signal="$SIGNAL" "${res[@]}")
	[ -n "$PARTITION" ] && args+=(--partition="$PARTITION")
	[ -n "$MEM_PER_CPU" ] && args+=(--mem-per-cpu="$MEM_PER_CPU")
	[ -n "$prev" ] && args+=(--dependency="$prev" --kill-on-invalid-dep=yes)
	split extra "$SIM_SBATCH_ARGS"
	args+=("${extra[@]}")
	id=$(submit sim "${args[@]}" "$REPO/slurm/sim-array.sbatch") || die "submitting the simulation array failed"
	echo "sim=$id"
	printed+=("sim=$id")
	prev="afterok:$id"
fi

after_failure() {
	die "submitting the $1 job failed; already submitted: ${printed[*]:-nothing}. Cancel with scancel, or submit the rest with STAGES=... DEPEND=${prev}"
}

# --- training ---
if want train; then
	[ -n "$TRAIN_CMD" ] || [ -x "$TRAIN" ] || info "warning: TRAIN=$TRAIN is not an executable yet (make build before the job starts)"
	args=("${common[@]}" --output="$LOGDIR/%x_%j.out" --time="$TRAIN_TIME" --cpus-per-task="$TRAIN_CPUS")
	[ -n "$TRAIN_PARTITION" ] && args+=(--partition="$TRAIN_PARTITION")
	[ -n "$TRAIN_GRES" ] && args+=(--gres="$TRAIN_GRES")
	[ -n "$TRAIN_MEM" ] && args+=(--mem="$TRAIN_MEM")
	[ -n "$prev" ] && args+=(--dependency="$prev" --kill-on-invalid-dep=yes)
	split extra "$TRAIN_SBATCH_ARGS"
	args+=("${extra[@]}")
	id=$(submit train "${args[@]}" "$REPO/slurm/train.sbatch") || after_failure training
	echo "train=$id"
	printed+=("train=$id")
	prev="afterok:$id"
fi

# --- analysis ---
if want analysis; then
	[ -n "$ANALYSIS_CMD" ] || [ -x "$ANALYSIS" ] || info "warning: ANALYSIS=$ANALYSIS is not an executable yet (make build before the job starts)"
	args=("${common[@]}" --output="$LOGDIR/%x_%j.out" --time="$ANALYSIS_TIME" --cpus-per-task="$ANALYSIS_CPUS")
	[ -n "$ANALYSIS_PARTITION" ] && args+=(--partition="$ANALYSIS_PARTITION")
	[ -n "$ANALYSIS_MEM" ] && args+=(--mem="$ANALYSIS_MEM")
	[ -n "$prev" ] && args+=(--dependency="$prev" --kill-on-invalid-dep=yes)
	split extra "$ANALYSIS_SBATCH_ARGS"
	args+=("${extra[@]}")
	id=$(submit analysis "${args[@]}" "$REPO/slurm/analysis.sbatch") || after_failure analysis
	echo "analysis=$id"
	printed+=("analysis=$id")
fi

[ -n "$DRY_RUN" ] || info "submitted ${printed[*]}; logs in $LOGDIR; watch with: squeue -u $(id -un)"
