#!/usr/bin/env bash
# Paired speed comparison of our solver with Athena++ on the same cores, in the same run.
#
# usage: scripts/compare-athena.sh ATHENA [pairs=3] [sizes="64 128"] [ranks="1 2"]
#   ATHENA: a path or URL of a clone of Athena++ (github.com/PrincetonUniversity/athena);
#           it is cloned into a scratch directory and checked out at $ATHENA_COMMIT.
#   SCRATCH=dir keeps the scratch directory (and its builds) for the next run; default: a
#           temporary directory removed at exit. Nothing of Athena++ enters this repository.
#
# Athena++ is built twice with `configure.py --prob=linear_wave --eos=isothermal --flux=llf
# --nghost=2 -omp` and --cxx=g++ (plain, -O3) or --cxx=g++-simd (-O3 -march=native -ffast-math
# ...), and run with VL2 + PLM, CFL 0.3, time/nlim=20, one meshblock per thread (N³ cells split
# along z), outputs off; its rates are zone-cycles/omp_wsecond (wall clock of the main loop) and
# zone-cycles/cpu_second (CPU time of the process). Ours is BenchmarkStep/N<N>/ranks<R> (one
# VL2 step of a turbulent box, set-up excluded) with GOMAXPROCS=R: Mzc/s (wall) and Mzc/cpu-s.
# Each pair runs ours, Athena++ plain and Athena++ SIMD back to back, so the noise of a shared
# machine hits all three; the script prints every pair and min/median/max of the ratios
# ours/theirs, for wall and for CPU time (on a machine shared with other work the CPU-time
# ratio is the steadier: it does not count the time a program waited for a core).
set -euo pipefail
ATHENA_COMMIT=${ATHENA_COMMIT:-ed4d1e3e3a3beb53ab9757dcc4b964dfbbad621a}
src=${1:?usage: scripts/compare-athena.sh ATHENA_CLONE_OR_URL [pairs] [sizes] [ranks]}
pairs=${2:-3} sizes=${3:-64 128} rankset=${4:-1 2}
cd "$(dirname "$0")/.."
repo=$PWD
if [[ -n ${SCRATCH:-} ]]; then
	mkdir -p "$SCRATCH"
	scratch=$(cd "$SCRATCH" && pwd)
else
	scratch=$(mktemp -d)
	trap 'rm -rf "$scratch"' EXIT
fi

grep -m1 'model name' /proc/cpuinfo | sed 's/.*: /CPU: /'
grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|fma)' | tr '\n' ' ' | sed 's/^/flags: /;s/$/\n/'
echo "Athena++ $ATHENA_COMMIT, $(g++ --version | head -1), $(go version)"

for variant in g++ g++-simd; do
	bin=$scratch/athena-$variant/bin/athena
	[[ -x $bin ]] && continue
	rm -rf "$scratch/athena-$variant"
	git clone --quiet "$src" "$scratch/athena-$variant"
	git -C "$scratch/athena-$variant" -c advice.detachedHead=false checkout --quiet "$ATHENA_COMMIT"
	(cd "$scratch/athena-$variant" &&
		python3 configure.py --prob=linear_wave --eos=isothermal --flux=llf --nghost=2 -omp --cxx="$variant" >/dev/null &&
		nice -n 10 make -j"$(nproc)" >build.log 2>&1) || { echo "building Athena++ ($variant) failed: see $scratch/athena-$variant/build.log" >&2; exit 1; }
done
go test -c -o "$scratch/hydro.test" ./sim/hydro

athena_input() { # N ranks
	cat <<IN
<job>
problem_id = LinWave
<time>
cfl_number = 0.3
nlim = 20
tlim = 1e10
integrator = vl2
xorder = 2
ncycle_out = 1000
<mesh>
nx1 = $1
x1min = 0
x1max = 1
ix1_bc = periodic
ox1_bc = periodic
nx2 = $1
x2min = 0
x2max = 1
ix2_bc = periodic
ox2_bc = periodic
nx3 = $1
x3min = 0
x3max = 1
ix3_bc = periodic
ox3_bc = periodic
num_threads = $2
<meshblock>
nx1 = $1
nx2 = $1
nx3 = $(($1 / $2))
<hydro>
iso_sound_speed = 1.0
<problem>
compute_error = false
wave_flag = 0
amp = 1e-6
vflow = 0.0
IN
}

athena() { # variant N ranks → "wall cpu" M zone-cycles/s
	athena_input "$2" "$3" >"$scratch/athinput"
	(cd "$scratch" && OMP_NUM_THREADS=$3 OMP_PROC_BIND=false "$scratch/athena-$1/bin/athena" -i athinput) |
		awk '/zone-cycles\/cpu_second/ { c = $3 / 1e6 } /zone-cycles\/omp_wsecond/ { w = $3 / 1e6 } END { printf "%.3f %.3f", w, c }'
}

ours() { # N ranks → "wall cpu" M zone-cycles/s
	(cd sim/hydro && GOMAXPROCS=$2 "$scratch/hydro.test" -test.run '^$' -test.bench "^BenchmarkStep/N$1/ranks$2\$" -test.benchtime 20x) |
		awk '/Mzc\/s/ { for (i = 1; i < NF; i++) { if ($(i+1) == "Mzc/s") w = $i; if ($(i+1) == "Mzc/cpu-s") c = $i } } END { printf "%.3f %.3f", w, c }'
}

stats() { # numbers → "min median max"
	tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { printf "min %.2f median %.2f max %.2f", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }

for n in $sizes; do
	for r in $rankset; do
		athena g++ "$n" "$r" >/dev/null # warm-up: page cache, CPU frequency
		pw="" sw="" pc="" sc=""
		for p in $(seq "$pairs"); do
			read -r ow oc <<<"$(ours "$n" "$r")"
			read -r aw ac <<<"$(athena g++ "$n" "$r")"
			read -r simdw simdc <<<"$(athena g++-simd "$n" "$r")"
			printf '%d³ %d rank(s), pair %d: M zone-cycles/s wall (per CPU s): ours %s (%s), Athena++ plain %s (%s), SIMD %s (%s)\n' \
				"$n" "$r" "$p" "$ow" "$oc" "$aw" "$ac" "$simdw" "$simdc"
			pw+=" $(ratio "$ow" "$aw")" sw+=" $(ratio "$ow" "$simdw")"
			pc+=" $(ratio "$oc" "$ac")" sc+=" $(ratio "$oc" "$simdc")"
		done
		echo "$n³ $r rank(s): ours/plain wall $(stats <<<"$pw"), CPU $(stats <<<"$pc")"
		echo "$n³ $r rank(s): ours/SIMD  wall $(stats <<<"$sw"), CPU $(stats <<<"$sc")"
	done
done
