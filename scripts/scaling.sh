#!/usr/bin/env bash
# Strong and weak scaling of sim under MPI on this machine, and the share of
# the time loop spent in ghost exchanges. Prints one line per run.
# usage: scripts/scaling.sh [launcher=mpirun.openmpi]   (needs make build-mpi)
set -euo pipefail
cd "$(dirname "$0")/.."
launcher=${1:-mpirun.openmpi}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
go build -tags mpi -o bin/sim-mpi ./sim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() { # grid ranks tend
	local flags=()
	[ "$launcher" = mpirun.openmpi ] && flags=(--oversubscribe)
	"$launcher" "${flags[@]}" -np "$2" bin/sim-mpi run --grid "$1" --tend "$3" --out "$out/r.tsnap" --force --log-every 1h 2>/dev/null |
		sed -E 's/^[^:]*: //'
}
echo "# strong scaling, 128³ (tend 1 Myr)"
for np in 1 2 4; do run 128 $np 1; done
echo "# ghost exchange at 64³ (tend 2 Myr)"
for np in 2 4; do run 64 $np 2; done
echo "# weak scaling, about 262k cells per rank (tend 1 Myr)"
run 64 1 1
run 80 2 1
run 101 4 1
