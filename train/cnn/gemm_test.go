package cnn

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"math"
	"math/rand/v2"
	"testing"
)

// gemmKinds lists the implementations this build can run.
func gemmKinds() []gemmKindT {
	ks := []gemmKindT{gemmGonum}
	if hasAVX512 {
		ks = append(ks, gemmAVX512)
	}
	if openblasAvailable {
		ks = append(ks, gemmOpenBLAS)
	}
	return ks
}

// withGemm runs f with matrix products of the given kind; the gonum kind
// also turns the other AVX-512 kernels off, so that the pure-Go engine is
// tested whole.
func withGemm(k gemmKindT, f func()) {
	old, oldSIMD := gemmKind, simd
	gemmKind = k
	if k == gemmGonum {
		simd = false
	}
	defer func() { gemmKind, simd = old, oldSIMD }()
	f()
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// TestGemm checks every implementation against a float64 reference on
// shapes with every kind of edge (tails of the 8×32 and 4×6 tiles, of the
// 16-lane blocks and of the 2048-long reduction slices), with padded
// strides, overwriting and accumulating.
func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{1, 1, 1}, {8, 32, 9}, {16, 4096, 9}, {13, 37, 5}, {9, 47, 33}, {32, 100, 144}, {64, 17, 576}, {5, 3, 2100}, {7, 11, 4500}, {32, 144, 4096}}
	for _, kind := range gemmKinds() {
		for _, sh := range shapes {
			m, n, k := sh[0], sh[1], sh[2]
			for _, acc := range []bool{false, true} {
				name := fmt.Sprintf("%v/%dx%dx%d/acc=%v", kind, m, n, k, acc)
				// NN with A plain and transposed.
				for _, transA := range []bool{false, true} {
					lda := k + 3
					arows := m
					if transA {
						lda, arows = m+2, k
					}
					a := randSlice(r, arows*lda)
					ldb, ldc := n+5, n+1
					b := randSlice(r, k*ldb)
					c0 := randSlice(r, m*ldc)
					c := append([]float32(nil), c0...)
					var ws gemmScratch
					withGemm(kind, func() { sgemmNN(&ws, m, n, k, a, lda, transA, b, ldb, c, ldc, acc) })
					for i := 0; i < m; i++ {
						for j := 0; j < ldc; j++ {
							want := float64(c0[i*ldc+j])
							if j < n {
								s := 0.0
								for p := 0; p < k; p++ {
									var av float32
									if transA {
										av = a[p*lda+i]
									} else {
										av = a[i*lda+p]
									}
									s += float64(av) * float64(b[p*ldb+j])
								}
								if acc {
									s += want
								}
								want = s
							}
							if d := math.Abs(float64(c[i*ldc+j]) - want); d > 1e-4*math.Sqrt(float64(k)+1)*(1+math.Abs(want)) {
								t.Fatalf("NN %s transA=%v: C[%d,%d] = %g, want %g", name, transA, i, j, c[i*ldc+j], want)
							}
						}
					}
				}
				// NT.
				lda, ldb, ldc := k+1, k+2, n+3
				a := randSlice(r, m*lda)
				b := randSlice(r, n*ldb)
				c0 := randSlice(r, m*ldc)
				c := append([]float32(nil), c0...)
				var ws gemmScratch
				withGemm(kind, func() { sgemmNT(&ws, m, n, k, a, lda, b, ldb, c, ldc, acc) })
				for i := 0; i < m; i++ {
					for j := 0; j < ldc; j++ {
						want := float64(c0[i*ldc+j])
						if j < n {
							s := 0.0
							for p := 0; p < k; p++ {
								s += float64(a[i*lda+p]) * float64(b[j*ldb+p])
							}
							if acc {
								s += want
							}
							want = s
						}
						if d := math.Abs(float64(c[i*ldc+j]) - want); d > 1e-4*math.Sqrt(float64(k)+1)*(1+math.Abs(want)) {
							t.Fatalf("NT %s: C[%d,%d] = %g, want %g", name, i, j, c[i*ldc+j], want)
						}
					}
				}
			}
		}
	}
}

// BenchmarkGemm times the products of the default network's blocks at
// 128² (per image): forward NN (cout × hw × 9cin), input-gradient NN
// (9cin × hw × cout, A transposed) and weight-gradient NT (cout × 9cin × hw),
// with the engine's padded row stride.
// TestGorgoniaBLAS checks gorgoniaBLAS.Sgemm against gonum's for every
// transposition, alpha and beta, with every product implementation.
func TestGorgoniaBLAS(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, kind := range gemmKinds() {
		for _, sh := range [][3]int{{32, 128, 4096}, {4096, 128, 32}, {32, 4096, 128}, {3, 5, 7}, {9, 1, 33}} {
			for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
					for _, ab := range [][2]float32{{1, 0}, {1, 1}, {0.5, 2}} {
						m, n, k := sh[0], sh[1], sh[2]
						lda, ldb := k+1, n+2
						ar, br := m, k
						if tA == blas.Trans {
							lda, ar = m+1, k
						}
						if tB == blas.Trans {
							ldb, br = k+3, n
						}
						a, b := randSlice(r, ar*lda), randSlice(r, br*ldb)
						c := randSlice(r, m*(n+1))
						want := append([]float32(nil), c...)
						gonumBLAS.Sgemm(tA, tB, m, n, k, ab[0], a, lda, b, ldb, ab[1], want, n+1)
						withGemm(kind, func() { gorgoniaBLAS{}.Sgemm(tA, tB, m, n, k, ab[0], a, lda, b, ldb, ab[1], c, n+1) })
						for i := range c {
							if d := math.Abs(float64(c[i] - want[i])); d > 1e-4*math.Sqrt(float64(k))*(1+math.Abs(float64(want[i]))) {
								t.Fatalf("%v %v %v %v alpha,beta %v: C[%d] = %g, want %g", kind, sh, tA, tB, ab, i, c[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

func BenchmarkGemm(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, kind := range gemmKinds() {
		for _, g := range []convGeom{{1, 128, 128, 16}, {16, 64, 64, 32}, {32, 32, 32, 64}, {64, 16, 16, 64}} {
			k, hw, ld, co := g.k(), g.hw(), g.ld(), g.cout
			col, gz, w := randSlice(r, k*ld), randSlice(r, co*ld), randSlice(r, co*k)
			var ws gemmScratch
			flops := float64(2 * k * hw * co)
			b.Run(fmt.Sprintf("%v/fwd/%dx%dx%d", kind, co, hw, k), func(b *testing.B) {
				withGemm(kind, func() {
					for b.Loop() {
						sgemmNN(&ws, co, hw, k, w, k, false, col, ld, gz, ld, false)
					}
				})
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			b.Run(fmt.Sprintf("%v/bwd-data/%dx%dx%d", kind, k, hw, co), func(b *testing.B) {
				withGemm(kind, func() {
					for b.Loop() {
						sgemmNN(&ws, k, hw, co, w, k, true, gz, ld, col, ld, false)
					}
				})
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			b.Run(fmt.Sprintf("%v/bwd-filter/%dx%dx%d", kind, co, k, hw), func(b *testing.B) {
				withGemm(kind, func() {
					for b.Loop() {
						sgemmNT(&ws, co, k, hw, gz, ld, col, ld, w, k, true)
					}
				})
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
