#!/usr/bin/env bash
# Compiles the CUDA kernels (train/cnn/cuda/kernels/kernels.cu, whose bodies
# are in host/kernels.h) to PTX with nvcc, on a machine with the CUDA
# toolkit, and writes train/cnn/cuda/kernels/kernels.ptx with the sources'
# hash on its first line (what kernels.PTX checks). Commit the result and
# rebuild train to embed it.
#
#   scripts/build-ptx.sh [OUT.ptx]   # default: the embedded file's place
#   scripts/build-ptx.sh --hash      # print the sources' hash only
#
# ARCH (default compute_90: Hopper and newer run it through the driver's JIT).
set -euo pipefail
cd "$(dirname "$0")/../train/cnn/cuda/kernels"

# The hash kernels.SourceHash computes: for each source, its name, a NUL,
# its length in decimal, a NUL, and its bytes.
source_hash() {
	for f in host/kernels.h kernels.cu; do
		printf '%s\0%d\0' "$f" "$(stat -c %s "$f")"
		cat "$f"
	done | sha256sum | cut -d' ' -f1
}
if [ "${1:-}" = "--hash" ]; then
	source_hash
	exit 0
fi

out=${1:-kernels.ptx}
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
command -v nvcc >/dev/null || { echo "build-ptx: nvcc not found (CUDA toolkit; or set PATH)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nvcc --version | tail -n 2 >&2
nvcc -ptx -arch="${ARCH:-compute_90}" -O3 -o "$tmp/k.ptx" kernels.cu
{ echo "// turbindex-kernels-sha256 $(source_hash)"; cat "$tmp/k.ptx"; } >"$tmp/out.ptx"
mv "$tmp/out.ptx" "$out"
echo "build-ptx: wrote $out" >&2
