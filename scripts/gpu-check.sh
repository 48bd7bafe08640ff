#!/usr/bin/env bash
# The GPU checks of the CUDA engine in one go, for a GPU machine without Go.
#
#   scripts/gpu-check.sh build   # here (with Go): test binaries into out/gpu/
#   scripts/gpu-check.sh run     # on the GPU machine, from the repository root,
#                                # with out/gpu/ copied over; results in $OUT (or out/gpu/results)
#
# "run" compiles the kernels to PTX with nvcc (scripts/build-ptx.sh), then
# runs the loader and kernel tests against the GPU with TURBINDEX_REQUIRE_CUDA=1
# (so nothing skips silently) and the freshly built PTX (TURBINDEX_PTX).
# Commit the PTX it leaves in $OUT/kernels.ptx as
# train/cnn/cuda/kernels/kernels.ptx to embed it.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
build)
	mkdir -p out/gpu
	go test -c -o out/gpu/cnn.test ./train/cnn
	go test -c -o out/gpu/cuda.test ./train/cnn/cuda
	go test -c -o out/gpu/kernels.test ./train/cnn/cuda/kernels
	CGO_ENABLED=0 go build -o out/gpu/ ./train
	ls -l out/gpu
	;;
run)
	res=${OUT:-out/gpu/results}
	mkdir -p "$res"
	exec > >(tee "$res/gpu-check.log") 2>&1
	nvidia-smi || true
	# cuBLAS from the CUDA toolkit or, failing that, a Python wheel (nvidia-cublas).
	if [ -z "${TURBINDEX_LIBCUBLAS:-}" ]; then
		lib=$(python3 -c 'import nvidia.cublas, os; d=os.path.join(list(nvidia.cublas.__path__)[0], "lib"); print(os.path.join(d, sorted(f for f in os.listdir(d) if f.startswith("libcublas.so"))[0]))' 2>/dev/null || true)
		[ -n "$lib" ] && export TURBINDEX_LIBCUBLAS=$lib
	fi
	scripts/build-ptx.sh "$res/kernels.ptx"
	export TURBINDEX_PTX=$res/kernels.ptx TURBINDEX_REQUIRE_CUDA=1
	(cd train/cnn/cuda && ../../../out/gpu/cuda.test -test.v -test.count=1)
	(cd train/cnn/cuda/kernels && TURBINDEX_PTX= ../../../../out/gpu/kernels.test -test.v -test.count=1)
	(cd train/cnn && ../../out/gpu/cnn.test -test.v -test.count=1 -test.run 'CUDA')
	out/gpu/train fit --device cuda --out "$res/probe-run" --manifest none --snapshots none || true
	echo "gpu-check: done; PTX in $res/kernels.ptx"
	;;
*)
	echo "usage: scripts/gpu-check.sh build|run" >&2
	exit 2
	;;
esac
