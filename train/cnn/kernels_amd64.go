//go:build amd64 && !purego

package cnn

//go:generate go run gen_kernels.go

// kernNN8x32 computes an 8×32 tile of C = A·B: a is a packed A panel
// (k groups of 8 row values); B row p of the tile starts boffs[p] floats
// after b, C row i coffs[i] floats after c. Columns are enabled by the lane
// masks m1 (columns 0..15) and m2 (16..31); only the first mr rows are
// stored, one after the other; acc ≠ 0 adds to C instead of overwriting it.
//
//go:noescape
func kernNN8x32(k int, a, b *float32, boffs *int, c *float32, coffs *int, mr int, m1, m2 int, acc int)

// kernNT4x6 computes the 4×6 dot products out[i*6+j] = Σ_p a_i[p]·b_j[p]
// over 16·n elements plus a final block whose lanes are enabled by tail.
//
//go:noescape
func kernNT4x6(n int, a0, a1, a2, a3, b0, b1, b2, b3, b4, b5 *float32, tail int, out *float32)

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// hasAVX512 reports whether the CPU and the OS support the AVX-512
// subsets the kernels use (F, VL).
var hasAVX512 = detectAVX512()

func detectAVX512() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave = 1 << 27
	if ecx1&osxsave == 0 {
		return false
	}
	// XCR0: SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM state enabled by the OS.
	xcr0, _ := xgetbv()
	if xcr0&0xe6 != 0xe6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx512f, avx512vl = 1 << 16, 1 << 31
	return ebx7&avx512f != 0 && ebx7&avx512vl != 0
}

// poolFwdAVX is poolForward for one channel: z holds the convolution
// (rows w apart), y and arg the ho×wo outputs; each row is nfull blocks of
// 16 outputs and a tail under the lane masks k1, k2 (inputs) and k3
// (outputs); see poolMasks.
//
//go:noescape
func poolFwdAVX(z *float32, w, ho, nfull int, bias float32, y *float32, arg *uint8, wo, k1, k2, k3 int)

// poolBwdAVX is poolBackward for one channel (without the zeroing of an
// odd last row or column); it returns the channel's gradient sum.
//
//go:noescape
func poolBwdAVX(gz *float32, w, ho, nfull int, gy *float32, arg *uint8, wo, k1, k2, k3 int) float32

// addAVX sets dst[i] += src[i] for i < n.
//
//go:noescape
func addAVX(dst, src *float32, n int)

// copyRowsAVX copies a rows×w block: dst row r = src row r (strides in
// floats).
//
//go:noescape
func copyRowsAVX(dst *float32, dstStride int, src *float32, srcStride int, rows, w int)

// addRowsAVX adds a rows×w block: dst row r += src row r.
//
//go:noescape
func addRowsAVX(dst *float32, dstStride int, src *float32, srcStride int, rows, w int)
