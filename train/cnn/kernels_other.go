//go:build !amd64 || purego

package cnn

// hasAVX512 is false off amd64 (and with the purego tag): the engine's
// matrix products then go through gonum's pure-Go BLAS.
const hasAVX512 = false

func kernNN8x32(k int, a, b *float32, boffs *int, c *float32, coffs *int, mr int, m1, m2 int, acc int) {
	panic("cnn: AVX-512 kernel called without AVX-512")
}

func kernNT4x6(n int, a0, a1, a2, a3, b0, b1, b2, b3, b4, b5 *float32, tail int, out *float32) {
	panic("cnn: AVX-512 kernel called without AVX-512")
}

func poolFwdAVX(z *float32, w, ho, nfull int, bias float32, y *float32, arg *uint8, wo, k1, k2, k3 int) {
	panic("cnn: AVX-512 kernel called without AVX-512")
}

func poolBwdAVX(gz *float32, w, ho, nfull int, gy *float32, arg *uint8, wo, k1, k2, k3 int) float32 {
	panic("cnn: AVX-512 kernel called without AVX-512")
}

func addAVX(dst, src *float32, n int) { panic("cnn: AVX-512 kernel called without AVX-512") }

func copyRowsAVX(dst *float32, dstStride int, src *float32, srcStride int, rows, w int) {
	panic("cnn: AVX-512 kernel called without AVX-512")
}

func addRowsAVX(dst *float32, dstStride int, src *float32, srcStride int, rows, w int) {
	panic("cnn: AVX-512 kernel called without AVX-512")
}
