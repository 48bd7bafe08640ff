//go:build !openblas

package cnn

// openblasAvailable is true only in builds with -tags openblas.
const openblasAvailable = false

func openblasSgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("cnn: built without -tags openblas")
}
