package cnn

import (
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
)

// The CPU engine's matrix products. Three implementations, chosen once at
// start-up (gemmKind) and overridable in tests:
//
//   - gemmAVX512: the package's own AVX-512 micro-kernels (kernels_amd64.s),
//     used on amd64 CPUs that have AVX-512 F and VL;
//   - gemmOpenBLAS: OpenBLAS through cgo, with -tags openblas (which make
//     build and the scripts add where libopenblas-dev is installed);
//   - gemmGonum: gonum's pure-Go BLAS, everywhere else (and with -tags purego).
//
// Every call is single-threaded: the engine runs several of them at once on
// disjoint data, so the work partition — and with it every floating-point
// sum — is fixed by the problem, never by the number of cores.

type gemmKindT int

const (
	gemmGonum gemmKindT = iota
	gemmAVX512
	gemmOpenBLAS
)

func (k gemmKindT) String() string {
	switch k {
	case gemmAVX512:
		return "avx512"
	case gemmOpenBLAS:
		return "openblas"
	default:
		return "gonum"
	}
}

// gemmKind is the implementation in use.
var gemmKind = defaultGemmKind()

// defaultGemmKind prefers the package's AVX-512 kernels where the CPU has
// them, then OpenBLAS where the build links it (3.5–4× gonum on an AVX2
// CPU), then gonum.
func defaultGemmKind() gemmKindT {
	if hasAVX512 {
		return gemmAVX512
	}
	if openblasAvailable {
		return gemmOpenBLAS
	}
	return gemmGonum
}

var gonumBLAS gonum.Implementation

// gemmScratch is one goroutine's working memory for the products.
type gemmScratch struct {
	pack         []float32 // packed A panels
	aoffs, boffs []int     // row offsets
	coffs        []int
}

// zeroUnlessAcc is the product with an empty inner dimension: C = 0, or C
// unchanged when accumulating.
func zeroUnlessAcc(m, n int, c []float32, ldc int, acc bool) {
	if acc {
		return
	}
	for i := 0; i < m; i++ {
		clear(c[i*ldc : i*ldc+n])
	}
}

// sgemmNN sets (or, with acc, adds to) the m×n matrix C the product
// op(A)·B, where B is k×n, and op(A) is A (m×k, row stride lda) or, with
// transA, the transpose of the k×m matrix A.
func sgemmNN(ws *gemmScratch, m, n, k int, a []float32, lda int, transA bool, b []float32, ldb int, c []float32, ldc int, acc bool) {
	if m == 0 || n == 0 {
		return
	}
	checkLen("A", a, rowsOf(m, k, transA), colsOf(m, k, transA), lda)
	checkLen("B", b, k, n, ldb)
	checkLen("C", c, m, n, ldc)
	if k == 0 {
		zeroUnlessAcc(m, n, c, ldc, acc)
		return
	}
	switch gemmKind {
	case gemmAVX512:
		pk := packA(&ws.pack, nil, m, k, a, lda, transA)
		nnPacked(m, n, k, pk, b, strideOffs(&ws.boffs, k, ldb), c, strideOffs(&ws.coffs, m, ldc), acc)
	case gemmOpenBLAS:
		openblasSgemm(transA, false, m, n, k, a, lda, b, ldb, betaOf(acc), c, ldc)
	default:
		ta := blas.NoTrans
		if transA {
			ta = blas.Trans
		}
		gonumBLAS.Sgemm(ta, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, betaOf(acc), c, ldc)
	}
}

// sgemmNT sets (or, with acc, adds to) the m×n matrix C the product A·Bᵀ,
// where A is m×k (row stride lda) and B is n×k (row stride ldb): every
// element of C is a dot product of two rows.
func sgemmNT(ws *gemmScratch, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	if m == 0 || n == 0 {
		return
	}
	checkLen("A", a, m, k, lda)
	checkLen("B", b, n, k, ldb)
	checkLen("C", c, m, n, ldc)
	if k == 0 {
		zeroUnlessAcc(m, n, c, ldc, acc)
		return
	}
	switch gemmKind {
	case gemmAVX512:
		ntRows(m, n, k, a, strideOffs(&ws.aoffs, m, lda), b, strideOffs(&ws.boffs, n, ldb), c, ldc, acc)
	case gemmOpenBLAS:
		openblasSgemm(false, true, m, n, k, a, lda, b, ldb, betaOf(acc), c, ldc)
	default:
		gonumBLAS.Sgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a, lda, b, ldb, betaOf(acc), c, ldc)
	}
}

// strideOffs returns the offsets 0, ld, 2·ld, ... of n rows.
func strideOffs(s *[]int, n, ld int) []int {
	if cap(*s) < n {
		*s = make([]int, n)
	}
	o := (*s)[:n]
	for i := range o {
		o[i] = i * ld
	}
	return o
}

func betaOf(acc bool) float32 {
	if acc {
		return 1
	}
	return 0
}

func rowsOf(m, k int, trans bool) int {
	if trans {
		return k
	}
	return m
}

func colsOf(m, k int, trans bool) int {
	if trans {
		return m
	}
	return k
}

// checkLen panics unless s holds a rows×cols matrix with row stride ld: the
// assembly kernels must never read or write past a slice.
func checkLen(name string, s []float32, rows, cols, ld int) {
	if ld < cols || len(s) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("cnn: gemm: %s too short: %d rows × %d cols, stride %d, length %d", name, rows, cols, ld, len(s)))
	}
}

// packA packs the m×k matrix op(A) (A, row stride lda, or with transA the
// transpose of the k×m matrix A) into panels of 8 rows, zero-padded, for
// nnPacked. When rows is not nil, packed row i is row rows[i] of op(A).
func packA(dst *[]float32, rows []int, m, k int, a []float32, lda int, transA bool) []float32 {
	mp := (m + 7) / 8
	need := mp * k * 8
	if cap(*dst) < need {
		*dst = make([]float32, need)
	}
	pk := (*dst)[:need]
	for ip := 0; ip < mp; ip++ {
		panel := pk[ip*k*8 : (ip+1)*k*8]
		i0 := ip * 8
		n := min(8, m-i0)
		if n < 8 {
			clear(panel)
		}
		for r := 0; r < n; r++ {
			row := i0 + r
			if rows != nil {
				row = rows[row]
			}
			if transA {
				for kk := 0; kk < k; kk++ {
					panel[kk*8+r] = a[kk*lda+row]
				}
			} else {
				for kk, v := range a[row*lda : row*lda+k] {
					panel[kk*8+r] = v
				}
			}
		}
	}
	return pk
}

// nnPacked sets (or, with acc, adds to) the rows of C the product of the
// packed m×k matrix pk and the k×n matrix B: B row p is b[boffs[p]:][:n],
// C row i is c[coffs[i]:][:n]. C rows may overlap: with acc, tiles and
// their rows are accumulated one after the other, in a fixed order.
func nnPacked(m, n, k int, pk []float32, b []float32, boffs []int, c []float32, coffs []int, acc bool) {
	if m == 0 || n == 0 || k == 0 {
		panic("cnn: nnPacked: empty product")
	}
	checkOffs("B", b, boffs[:k], n)
	checkOffs("C", c, coffs[:m], n)
	if len(pk) < (m+7)/8*8*k {
		panic("cnn: nnPacked: short packed A")
	}
	accI := 0
	if acc {
		accI = 1
	}
	mp := (m + 7) / 8
	for j := 0; j < n; j += 32 {
		nr := min(32, n-j)
		m1, m2 := 0xffff, 0xffff
		if nr < 16 {
			m1, m2 = 1<<nr-1, 0
		} else if nr < 32 {
			m2 = 1<<(nr-16) - 1
		}
		for ip := 0; ip < mp; ip++ {
			i0 := ip * 8
			kernNN8x32(k, &pk[ip*k*8], &b[j], &boffs[0], &c[j], &coffs[i0], min(8, m-i0), m1, m2, accI)
		}
	}
}

// checkOffs panics unless every row s[off:][:n] lies inside s: the kernels
// must never read or write past a slice.
func checkOffs(name string, s []float32, offs []int, n int) {
	for _, o := range offs {
		if o < 0 || o+n > len(s) {
			panic(fmt.Sprintf("cnn: gemm: %s row at %d of length %d outside a slice of %d", name, o, n, len(s)))
		}
	}
}

// ntBlock is the length of the slices of the reduction dimension that
// ntRows works on at a time, so that both operands' slices stay in the
// core's L2 cache while every tile of C is visited.
const ntBlock = 2048

// ntRows sets (or, with acc, adds to) the m×n matrix C (row stride ldc)
// the dot products of the rows a[aoffs[i]:][:k] with the rows
// b[boffs[j]:][:k], with the 4×6 kernel. Rows past the end of a tile are
// read as copies of the last row and their results dropped.
func ntRows(m, n, k int, a []float32, aoffs []int, b []float32, boffs []int, c []float32, ldc int, acc bool) {
	checkOffs("A", a, aoffs[:m], k)
	checkOffs("B", b, boffs[:n], k)
	checkLen("C", c, m, n, ldc)
	var out [24]float32
	var ap [4]*float32
	var bp [6]*float32
	for p0 := 0; p0 < k; p0 += ntBlock {
		pl := min(ntBlock, k-p0)
		full, tail := pl/16, 0
		if r := pl % 16; r != 0 {
			tail = 1<<r - 1
		}
		add := acc || p0 > 0
		for j0 := 0; j0 < n; j0 += 6 {
			for j := range bp {
				bp[j] = &b[boffs[min(j0+j, n-1)]+p0]
			}
			nj := min(6, n-j0)
			for i0 := 0; i0 < m; i0 += 4 {
				for i := range ap {
					ap[i] = &a[aoffs[min(i0+i, m-1)]+p0]
				}
				kernNT4x6(full, ap[0], ap[1], ap[2], ap[3], bp[0], bp[1], bp[2], bp[3], bp[4], bp[5], tail, &out[0])
				ni := min(4, m-i0)
				for i := 0; i < ni; i++ {
					crow := c[(i0+i)*ldc+j0 : (i0+i)*ldc+j0+nj]
					o := out[i*6 : i*6+nj]
					if add {
						for j := range crow {
							crow[j] += o[j]
						}
					} else {
						copy(crow, o)
					}
				}
			}
		}
	}
}

// gorgoniaBLAS is the BLAS gorgonia's own matrix products (those of the
// dense head) use once a model exists: gonum's, with Sgemm replaced by the
// package's kernels (or OpenBLAS) where they apply, the rows of C split
// over the cores. Every element of C is computed whole by one kernel call
// sequence that does not depend on the split, so results do not depend on
// the number of cores.
type gorgoniaBLAS struct{ gonum.Implementation }

var gemmScratchPool = sync.Pool{New: func() any { return new(gemmScratch) }}

// parallelMinFlops is the size of product below which Sgemm stays on one
// core.
const parallelMinFlops = 1 << 20

// splitRows runs f over [0, m) cut into at most GOMAXPROCS ranges whose
// starts are multiples of align, in parallel.
func splitRows(m, align, flops int, f func(i0, i1 int)) {
	nw := runtime.GOMAXPROCS(0)
	blocks := (m + align - 1) / align
	if flops < parallelMinFlops || nw < 2 || blocks < 2 {
		f(0, m)
		return
	}
	nw = min(nw, blocks)
	var wg sync.WaitGroup
	for w := 0; w < nw; w++ {
		i0, i1 := blocks*w/nw*align, min(m, blocks*(w+1)/nw*align)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i0, i1)
		}()
	}
	wg.Wait()
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C (row-major).
func (gorgoniaBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := tA != blas.NoTrans, tB != blas.NoTrans
	plain := alpha == 1 && (beta == 0 || beta == 1) && m > 0 && n > 0 && k > 0
	if !plain || gemmKind == gemmGonum || (ta && tb && gemmKind == gemmAVX512) {
		gonumBLAS.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkLen("A", a, rowsOf(m, k, ta), colsOf(m, k, ta), lda)
	checkLen("B", b, rowsOf(k, n, tb), colsOf(k, n, tb), ldb)
	checkLen("C", c, m, n, ldc)
	ws := gemmScratchPool.Get().(*gemmScratch)
	defer gemmScratchPool.Put(ws)
	acc := beta == 1
	flops := 2 * m * n * k
	switch {
	case gemmKind == gemmOpenBLAS:
		openblasSgemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc)
	case !tb:
		pk := packA(&ws.pack, nil, m, k, a, lda, ta)
		boffs, coffs := strideOffs(&ws.boffs, k, ldb), strideOffs(&ws.coffs, m, ldc)
		splitRows(m, 8, flops, func(i0, i1 int) {
			nnPacked(i1-i0, n, k, pk[i0*k:], b, boffs, c, coffs[i0:i1], acc)
		})
	default:
		aoffs, boffs := strideOffs(&ws.aoffs, m, lda), strideOffs(&ws.boffs, n, ldb)
		splitRows(m, 4, flops, func(i0, i1 int) {
			ntRows(i1-i0, n, k, a, aoffs[i0:i1], b, boffs, c[i0*ldc:], ldc, acc)
		})
	}
}

var useBLASOnce sync.Once

// useGorgoniaBLAS installs gorgoniaBLAS as gorgonia's BLAS (process-wide;
// it computes what gonum's does, faster).
func useGorgoniaBLAS() { useBLASOnce.Do(func() { G.Use(gorgoniaBLAS{}) }) }
