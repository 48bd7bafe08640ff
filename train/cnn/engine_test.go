package cnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveBlock is the float64 reference of a convolution block: direct
// convolution, bias, ReLU, 2×2 max-pool (floor), and its backward pass.
func naiveBlock(g convGeom, n int, x, w, b []float64) (z []float64, y []float64) {
	h, wd := g.h, g.w
	z = make([]float64, n*g.cout*h*wd)
	for i := 0; i < n; i++ {
		for co := 0; co < g.cout; co++ {
			for oy := 0; oy < h; oy++ {
				for ox := 0; ox < wd; ox++ {
					s := b[co]
					for ci := 0; ci < g.cin; ci++ {
						for ky := 0; ky < 3; ky++ {
							for kx := 0; kx < 3; kx++ {
								iy, ix := oy+ky-1, ox+kx-1
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								s += w[((co*g.cin+ci)*3+ky)*3+kx] * x[((i*g.cin+ci)*h+iy)*wd+ix]
							}
						}
					}
					z[((i*g.cout+co)*h+oy)*wd+ox] = s
				}
			}
		}
	}
	ho, wo := g.ho(), g.wo()
	y = make([]float64, n*g.cout*ho*wo)
	for i := 0; i < n; i++ {
		for co := 0; co < g.cout; co++ {
			for py := 0; py < ho; py++ {
				for px := 0; px < wo; px++ {
					m := math.Inf(-1)
					for dy := 0; dy < 2; dy++ {
						for dx := 0; dx < 2; dx++ {
							m = math.Max(m, z[((i*g.cout+co)*h+2*py+dy)*wd+2*px+dx])
						}
					}
					y[((i*g.cout+co)*ho+py)*wo+px] = math.Max(m, 0)
				}
			}
		}
	}
	return z, y
}

func to64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

// TestEngineAgainstNaive compares the CPU engine's forward and backward
// passes with a direct float64 implementation, on geometries with odd
// sizes (floor pooling), channel counts that fill no kernel tile, and
// batches that leave a partial chunk, for every matrix-product
// implementation of the build.
func TestEngineAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	geoms := []struct {
		g convGeom
		n int
	}{
		{convGeom{cin: 1, h: 8, w: 8, cout: 2}, 1},
		{convGeom{cin: 3, h: 7, w: 9, cout: 5}, 6},
		{convGeom{cin: 16, h: 10, w: 6, cout: 32}, 5},
		{convGeom{cin: 2, h: 33, w: 35, cout: 9}, 3},
		{convGeom{cin: 1, h: 6, w: 64, cout: 3}, 2},
		{convGeom{cin: 2, h: 5, w: 67, cout: 4}, 9},
	}
	for _, kind := range gemmKinds() {
		for _, tc := range geoms {
			g, n := tc.g, tc.n
			t.Run(fmt.Sprintf("%v/%dx%dx%d-%d", kind, g.cin, g.h, g.w, g.cout), func(t *testing.T) {
				x := randSlice(r, n*g.inSize())
				w := randSlice(r, g.cout*g.k())
				b := randSlice(r, g.cout)
				gy := randSlice(r, n*g.outSize())
				y := make([]float32, n*g.outSize())
				arg := make([]uint8, len(y))
				dx := make([]float32, len(x))
				dw := make([]float32, len(w))
				db := make([]float32, len(b))
				e := &cpuEngine{}
				withGemm(kind, func() {
					e.convForward(g, n, x, w, b, y, arg)
					e.convBackward(g, n, x, w, y, gy, arg, dx, dw, db)
				})
				z, yRef := naiveBlock(g, n, to64(x), to64(w), to64(b))
				tol := 1e-5 * math.Sqrt(float64(g.k()))
				for i := range y {
					if d := math.Abs(float64(y[i]) - yRef[i]); d > tol*(1+math.Abs(yRef[i])) {
						t.Fatalf("y[%d] = %g, want %g", i, y[i], yRef[i])
					}
				}
				// Reference backward: route each pooled gradient to the
				// window's maximum of z (ties are measure-zero with random
				// data), through the ReLU.
				h, wd, ho, wo := g.h, g.w, g.ho(), g.wo()
				gz := make([]float64, len(z))
				dbRef := make([]float64, g.cout)
				for i := 0; i < n; i++ {
					for co := 0; co < g.cout; co++ {
						for py := 0; py < ho; py++ {
							for px := 0; px < wo; px++ {
								o := ((i*g.cout+co)*ho+py)*wo + px
								if !(yRef[o] > 0) {
									continue
								}
								best, bi := math.Inf(-1), 0
								for dy := 0; dy < 2; dy++ {
									for dx := 0; dx < 2; dx++ {
										zi := ((i*g.cout+co)*h+2*py+dy)*wd + 2*px + dx
										if z[zi] > best {
											best, bi = z[zi], zi
										}
									}
								}
								gz[bi] = float64(gy[o])
								dbRef[co] += float64(gy[o])
							}
						}
					}
				}
				dwRef := make([]float64, len(w))
				dxRef := make([]float64, len(x))
				for i := 0; i < n; i++ {
					for co := 0; co < g.cout; co++ {
						for oy := 0; oy < h; oy++ {
							for ox := 0; ox < wd; ox++ {
								gv := gz[((i*g.cout+co)*h+oy)*wd+ox]
								if gv == 0 {
									continue
								}
								for ci := 0; ci < g.cin; ci++ {
									for ky := 0; ky < 3; ky++ {
										for kx := 0; kx < 3; kx++ {
											iy, ix := oy+ky-1, ox+kx-1
											if iy < 0 || iy >= h || ix < 0 || ix >= wd {
												continue
											}
											wi := ((co*g.cin+ci)*3+ky)*3 + kx
											xi := ((i*g.cin+ci)*h+iy)*wd + ix
											dwRef[wi] += gv * float64(x[xi])
											dxRef[xi] += gv * float64(w[wi])
										}
									}
								}
							}
						}
					}
				}
				check := func(name string, got []float32, want []float64, scale float64) {
					for i := range got {
						if d := math.Abs(float64(got[i]) - want[i]); d > 1e-5*scale*(1+math.Abs(want[i])) {
							t.Fatalf("%s[%d] = %g, want %g", name, i, got[i], want[i])
						}
					}
				}
				check("db", db, dbRef, math.Sqrt(float64(n*h*wd)))
				check("dw", dw, dwRef, math.Sqrt(float64(n*h*wd)))
				check("dx", dx, dxRef, math.Sqrt(float64(9*g.cout)))
			})
		}
	}
}
