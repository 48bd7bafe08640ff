//go:build openblas

package cnn

import "github.com/turbindex/turbindex/train/cnn/internal/openblas"

// openblasAvailable is true in builds with -tags openblas (Debian:
// libopenblas-dev). The conv layers' matrix products then go to OpenBLAS,
// single-threaded: the engine itself runs one product per core.
const openblasAvailable = true

func init() { openblas.SetThreads(1) }

func openblasSgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	openblas.Sgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}
