package cnn

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// convGeom is one convolution block: a 3×3 convolution (padding 1,
// stride 1) from cin channels of h×w pixels to cout channels, plus a bias
// per channel, ReLU, and a 2×2 max-pool of stride 2 (odd sizes floor).
type convGeom struct {
	cin, h, w, cout int
}

func (g convGeom) ho() int { return g.h / 2 }
func (g convGeom) wo() int { return g.w / 2 }
func (g convGeom) k() int  { return g.cin * 9 }
func (g convGeom) hw() int { return g.h * g.w }

// ld is the row stride of the engine's k×hw and cout×hw work matrices:
// hw rounded up to 16 floats (64-byte rows), plus 16, so that rows never lie
// a multiple of 4 kB apart — such rows share the same L1 cache sets, and a
// kernel walking down 8 or 144 of them thrashes.
func (g convGeom) ld() int      { return (g.hw()+15)/16*16 + 16 }
func (g convGeom) inSize() int  { return g.cin * g.h * g.w }
func (g convGeom) outSize() int { return g.cout * g.ho() * g.wo() }

// engine is the compute seam of the model: the convolution blocks — where
// nearly all the time and memory of a step go — run through it, called by
// the block's gorgonia ops (ops.go). All slices are float32 in NCHW order,
// batch first; w is (cout, cin, 3, 3), bias is (cout); arg holds one
// byte per pooled output (which of the 2×2 window won). Methods are called
// from one goroutine at a time and must be deterministic: the same inputs
// give bitwise the same outputs whatever the machine's core count.
//
// cpuEngine is the implementation here. A GPU engine implements the same
// two methods on device memory (cuDNN convolution + pooling, or kernels of
// its own) and is selected when the model is built; the gorgonia graph, the
// dense head, the solver and checkpoints do not change.
type engine interface {
	// convForward sets y[i] = ReLU(maxpool(conv(x[i], w)) + bias) and
	// arg[i] for the n images of x.
	convForward(g convGeom, n int, x, w, bias, y []float32, arg []uint8)
	// convBackward takes gy = ∂L/∂y and the forward pass's x, y and arg
	// (an engine uses y or arg, whichever it keeps), and sets dx = ∂L/∂x
	// (when dx is not nil) and dw = ∂L/∂w, db = ∂L/∂bias (when dw is not
	// nil), summed over the batch.
	convBackward(g convGeom, n int, x, w, y, gy []float32, arg []uint8, dx, dw, db []float32)
}

// chunkImages is the number of images whose weight gradients one task of
// the backward pass sums before the per-task sums are added in task order:
// the partition, and with it the rounding, depends only on the batch.
const chunkImages = 4

// cpuEngine runs the blocks on the CPU, one image per task, images spread
// over GOMAXPROCS goroutines, all buffers kept and reused from step to step,
// bias, ReLU and pooling fused into one pass over the convolution.
//
// With the AVX-512 kernels it convolves directly ("direct" path): the
// image is copied once into a zero-bordered plane of (h+2)×(w+2) pixels
// per channel, and the convolution is computed over the padded-width grid
// of h×(w+2) outputs (two junk columns per row, ignored). There, the input
// row (c, ky, kx) of the im2col matrix is the plane itself shifted by
// c·plane + ky·(w+2) + kx, so the matrix kernels read it in place through a
// table of row offsets: no im2col is written, no col2im read. The gradient
// with respect to the input accumulates the product's rows into a bordered
// plane at the same offsets.
//
// Otherwise ("im2col" path: gonum or OpenBLAS products) each image is an
// im2col in NCHW order, one matrix product, and a col2im for the gradient.
type cpuEngine struct {
	scratch []*workerScratch
	partW   []float32 // per-task weight-gradient sums
	partB   []float32 // per-task bias-gradient sums

	// Direct path, per call: packed weights and row-offset tables.
	wpack           []float32
	offs, zoffs     []int
	permRows, doffs []int
}

// workerScratch is one goroutine's working memory.
type workerScratch struct {
	col  []float32 // im2col matrix (k × hw, row stride ld), reused for its gradient
	gz   []float32 // pre-pool output or its gradient (cout rows)
	pad  []float32 // an image with a border of zeros
	dpad []float32 // the gradient of a bordered image
	gs   gemmScratch
}

func grow(s *[]float32, n int) []float32 {
	if cap(*s) < n {
		*s = make([]float32, n)
	}
	return (*s)[:n]
}

func growInts(s *[]int, n int) []int {
	if cap(*s) < n {
		*s = make([]int, n)
	}
	return (*s)[:n]
}

// parallel runs f(task, scratch) for every task in [0, n) on up to
// GOMAXPROCS goroutines. Which goroutine runs a task never changes what the
// task computes.
func (e *cpuEngine) parallel(n int, f func(task int, s *workerScratch)) {
	nw := min(runtime.GOMAXPROCS(0), n)
	for len(e.scratch) < max(nw, 1) {
		e.scratch = append(e.scratch, new(workerScratch))
	}
	if nw <= 1 {
		for t := 0; t < n; t++ {
			f(t, e.scratch[0])
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < nw; w++ {
		wg.Add(1)
		go func(s *workerScratch) {
			defer wg.Done()
			for {
				t := int(next.Add(1) - 1)
				if t >= n {
					return
				}
				f(t, s)
			}
		}(e.scratch[w])
	}
	wg.Wait()
}

// Geometry of the direct path.
func (g convGeom) wp() int    { return g.w + 2 }
func (g convGeom) plane() int { return (g.h + 2) * (g.w + 2) }
func (g convGeom) np() int    { return g.h * g.wp() } // outputs on the padded-width grid

// padLen is the length of a bordered image: the planes, plus room for the
// two floats that the last row of the last shifted plane reads past them.
func (g convGeom) padLen() int { return g.cin*g.plane() + 16 }

// ldz is the row stride of the direct path's cout × np matrices (see ld).
func (g convGeom) ldz() int { return (g.np()+15)/16*16 + 16 }

func direct() bool { return gemmKind == gemmAVX512 }

// padImage copies one image (cin × h × w) into xp with a border of zeros.
func padImage(g convGeom, x, xp []float32) {
	h, w, hw, wp, pl := g.h, g.w, g.hw(), g.wp(), g.plane()
	_, _ = x[g.inSize()-1], xp[g.padLen()-1]
	for c := 0; c < g.cin; c++ {
		b := xp[c*pl : (c+1)*pl]
		clear(b[:wp])
		clear(b[(h+1)*wp:])
		for iy := 1; iy <= h; iy++ {
			b[iy*wp], b[iy*wp+wp-1] = 0, 0
		}
		copyRowsAVX(&b[wp+1], wp, &x[c*hw], w, h, w)
	}
	clear(xp[g.cin*pl : g.padLen()])
}

// setOffsets fills the direct path's tables for g: offs[kk], the shift of
// im2col row kk = (c, ky, kx); zoffs[c], the rows of the cout × np matrix.
func (e *cpuEngine) setOffsets(g convGeom) {
	e.offs = growInts(&e.offs, g.k())
	for c := 0; c < g.cin; c++ {
		for r := 0; r < 9; r++ {
			e.offs[c*9+r] = c*g.plane() + r/3*g.wp() + r%3
		}
	}
	e.zoffs = strideOffs(&e.zoffs, g.cout, g.ldz())
}

func (e *cpuEngine) convForward(g convGeom, n int, x, w, bias, y []float32, arg []uint8) {
	k, in, out := g.k(), g.inSize(), g.outSize()
	if direct() {
		pk := packA(&e.wpack, nil, g.cout, k, w, k, false)
		e.setOffsets(g)
		offs, zoffs := e.offs, e.zoffs
		e.parallel(n, func(i int, s *workerScratch) {
			xp := grow(&s.pad, g.padLen())
			z := grow(&s.gz, g.cout*g.ldz())
			padImage(g, x[i*in:(i+1)*in], xp)
			nnPacked(g.cout, g.np(), k, pk, xp, offs, z, zoffs, false)
			poolForward(g, z, g.wp(), g.ldz(), bias, y[i*out:(i+1)*out], arg[i*out:(i+1)*out])
		})
		return
	}
	hw, ld := g.hw(), g.ld()
	e.parallel(n, func(i int, s *workerScratch) {
		col := grow(&s.col, k*ld)
		z := grow(&s.gz, g.cout*ld)
		im2col(g, x[i*in:(i+1)*in], col, &s.pad)
		sgemmNN(&s.gs, g.cout, hw, k, w, k, false, col, ld, z, ld, false)
		poolForward(g, z, g.w, ld, bias, y[i*out:(i+1)*out], arg[i*out:(i+1)*out])
	})
}

func (e *cpuEngine) convBackward(g convGeom, n int, x, w, y, gy []float32, arg []uint8, dx, dw, db []float32) {
	k, hw, ld, in, out := g.k(), g.hw(), g.ld(), g.inSize(), g.outSize()
	nt := (n + chunkImages - 1) / chunkImages
	nwb := g.cout * k
	var partW, partB []float32
	if dw != nil {
		partW = grow(&e.partW, nt*nwb)
		partB = grow(&e.partB, nt*g.cout)
	}
	var task func(t int, s *workerScratch)
	if direct() {
		e.setOffsets(g)
		offs, zoffs := e.offs, e.zoffs
		var pk []float32
		var doffs []int
		if dx != nil {
			// The input gradient's product, Wᵀ·gz, has rows kk whose
			// accumulations into the bordered plane overlap; its packed rows
			// are ordered (ky, kx) major, channel minor, so that the 8 rows
			// of a tile lie in different planes.
			e.permRows = growInts(&e.permRows, k)
			e.doffs = growInts(&e.doffs, k)
			for i := range e.permRows {
				kk := i%g.cin*9 + i/g.cin
				e.permRows[i], e.doffs[i] = kk, offs[kk]
			}
			pk = packA(&e.wpack, e.permRows, k, g.cout, w, k, true)
			doffs = e.doffs
		}
		task = func(t int, s *workerScratch) {
			gz := grow(&s.gz, g.cout*g.ldz())
			for i := t * chunkImages; i < min(n, (t+1)*chunkImages); i++ {
				first := i == t*chunkImages
				var pb []float32
				if dw != nil {
					pb = partB[t*g.cout : (t+1)*g.cout]
				}
				poolBackward(g, gy[i*out:(i+1)*out], arg[i*out:(i+1)*out], gz, g.wp(), g.ldz(), pb, !first)
				if dw != nil {
					xp := grow(&s.pad, g.padLen())
					padImage(g, x[i*in:(i+1)*in], xp)
					ntRows(g.cout, k, g.np(), gz, zoffs, xp, offs, partW[t*nwb:(t+1)*nwb], k, !first)
				}
				if dx != nil {
					dp := grow(&s.dpad, g.padLen())
					clear(dp)
					nnPacked(k, g.np(), g.cout, pk, gz, zoffs, dp, doffs, true)
					for c := 0; c < g.cin; c++ {
						copyRowsAVX(&dx[i*in+c*hw], g.w, &dp[c*g.plane()+g.wp()+1], g.wp(), g.h, g.w)
					}
				}
			}
		}
	} else {
		task = func(t int, s *workerScratch) {
			col := grow(&s.col, k*ld)
			gz := grow(&s.gz, g.cout*ld)
			for i := t * chunkImages; i < min(n, (t+1)*chunkImages); i++ {
				first := i == t*chunkImages
				var pb []float32
				if dw != nil {
					pb = partB[t*g.cout : (t+1)*g.cout]
				}
				poolBackward(g, gy[i*out:(i+1)*out], arg[i*out:(i+1)*out], gz, g.w, ld, pb, !first)
				if dw != nil {
					im2col(g, x[i*in:(i+1)*in], col, &s.pad)
					sgemmNT(&s.gs, g.cout, k, hw, gz, ld, col, ld, partW[t*nwb:(t+1)*nwb], k, !first)
				}
				if dx != nil {
					sgemmNN(&s.gs, k, hw, g.cout, w, k, true, gz, ld, col, ld, false)
					col2im(g, col, dx[i*in:(i+1)*in], &s.pad)
				}
			}
		}
	}
	e.parallel(nt, task)
	if dw != nil {
		copy(dw, partW[:nwb])
		copy(db, partB[:g.cout])
		for t := 1; t < nt; t++ {
			addTo(dw, partW[t*nwb:(t+1)*nwb])
			addTo(db, partB[t*g.cout:(t+1)*g.cout])
		}
	}
}

// simd selects the package's AVX-512 kernels for pooling and sums (the
// matrix products have their own switch, gemmKind).
var simd = hasAVX512

// addTo sets dst[i] += src[i].
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	if simd && len(dst) > 0 {
		addAVX(&dst[0], &src[0], len(dst))
		return
	}
	for i, v := range src {
		dst[i] += v
	}
}

// im2col writes the 3×3, padding-1 patches of one image x (cin × h × w)
// as the rows of col (cin·9 × h·w, row stride ld): row (c, ky, kx) holds,
// for every output pixel, the input pixel at offset (ky−1, kx−1), zero
// outside the image. With the AVX-512 kernels, the image is first copied
// into pad with a border of zeros, and every row of col is then one
// strided block copy.
func im2col(g convGeom, x, col []float32, pad *[]float32) {
	h, w, hw, ld := g.h, g.w, g.hw(), g.ld()
	if simd {
		hp, wp := h+2, w+2
		xp := grow(pad, g.cin*hp*wp)
		_, _ = x[g.inSize()-1], col[(g.k()-1)*ld+hw-1]
		for c := 0; c < g.cin; c++ {
			b := xp[c*hp*wp : (c+1)*hp*wp]
			clear(b[:wp])
			clear(b[(hp-1)*wp:])
			for iy := 1; iy <= h; iy++ {
				b[iy*wp], b[iy*wp+wp-1] = 0, 0
			}
			copyRowsAVX(&b[wp+1], wp, &x[c*hw], w, h, w)
			for r := 0; r < 9; r++ {
				copyRowsAVX(&col[(c*9+r)*ld], w, &b[r/3*wp+r%3], wp, h, w)
			}
		}
		return
	}
	for c := 0; c < g.cin; c++ {
		xc := x[c*hw : (c+1)*hw]
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				row := col[((c*3+ky)*3+kx)*ld:][:hw]
				for oy := 0; oy < h; oy++ {
					dst := row[oy*w : oy*w+w]
					iy := oy + ky - 1
					if iy < 0 || iy >= h {
						clear(dst)
						continue
					}
					src := xc[iy*w : iy*w+w]
					switch kx {
					case 0:
						dst[0] = 0
						copy(dst[1:], src[:w-1])
					case 1:
						copy(dst, src)
					default:
						copy(dst[:w-1], src[1:])
						dst[w-1] = 0
					}
				}
			}
		}
	}
}

// col2im is the adjoint of im2col: it sets dx (cin × h × w) to the sum of
// every entry of col over the pixels it was copied from (in row order of
// col, whichever way it runs).
func col2im(g convGeom, col, dx []float32, pad *[]float32) {
	h, w, hw, ld := g.h, g.w, g.hw(), g.ld()
	if simd {
		hp, wp := h+2, w+2
		xp := grow(pad, g.cin*hp*wp)
		clear(xp)
		_, _ = dx[g.inSize()-1], col[(g.k()-1)*ld+hw-1]
		for c := 0; c < g.cin; c++ {
			b := xp[c*hp*wp : (c+1)*hp*wp]
			for r := 0; r < 9; r++ {
				addRowsAVX(&b[r/3*wp+r%3], wp, &col[(c*9+r)*ld], w, h, w)
			}
			copyRowsAVX(&dx[c*hw], w, &b[wp+1], wp, h, w)
		}
		return
	}
	clear(dx[:g.inSize()])
	for c := 0; c < g.cin; c++ {
		dc := dx[c*hw : (c+1)*hw]
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				row := col[((c*3+ky)*3+kx)*ld:][:hw]
				for oy := 0; oy < h; oy++ {
					iy := oy + ky - 1
					if iy < 0 || iy >= h {
						continue
					}
					src := row[oy*w : oy*w+w]
					dst := dc[iy*w : iy*w+w]
					switch kx {
					case 0:
						addTo(dst[:w-1], src[1:])
					case 1:
						addTo(dst, src)
					default:
						addTo(dst[1:], src[:w-1])
					}
				}
			}
		}
	}
}

// argOff marks a pooled output whose ReLU is off (no gradient flows).
const argOff = 4

// poolMasks returns, for rows of wo pooled outputs, the number of whole
// 16-output blocks and the AVX-512 lane masks of the tail block: its 2·t
// inputs over two registers (k1, k2) and its t outputs (k3).
func poolMasks(wo int) (nfull, k1, k2, k3 int) {
	t := wo % 16
	return wo / 16, 1<<min(2*t, 16) - 1, 1<<max(2*t-16, 0) - 1, 1<<t - 1
}

// poolForward turns the convolution z of one image (cout channels ld
// floats apart, h rows rs floats apart, w used columns) into the block
// output y = ReLU(maxpool(z) + bias) (cout × h/2 × w/2); arg records which
// element of each 2×2 window was the maximum (0..3, row-major, the first on
// ties), or argOff where the ReLU is off.
func poolForward(g convGeom, z []float32, rs, ld int, bias, y []float32, arg []uint8) {
	w, ho, wo := rs, g.ho(), g.wo()
	if simd {
		nfull, k1, k2, k3 := poolMasks(wo)
		for c := 0; c < g.cout; c++ {
			_ = z[c*ld+(2*ho-1)*w+2*wo-1]
			_ = y[(c+1)*ho*wo-1]
			_ = arg[(c+1)*ho*wo-1]
			poolFwdAVX(&z[c*ld], w, ho, nfull, bias[c], &y[c*ho*wo], &arg[c*ho*wo], wo, k1, k2, k3)
		}
		return
	}
	for c := 0; c < g.cout; c++ {
		b := bias[c]
		zc := z[c*ld : c*ld+g.h*rs]
		for py := 0; py < ho; py++ {
			r0 := zc[2*py*w : 2*py*w+2*wo]
			r1 := zc[(2*py+1)*w : (2*py+1)*w+2*wo]
			yr := y[(c*ho+py)*wo : (c*ho+py)*wo+wo]
			ar := arg[(c*ho+py)*wo : (c*ho+py)*wo+wo]
			for px := range yr {
				m, a := r0[2*px], uint8(0)
				if v := r0[2*px+1]; v > m {
					m, a = v, 1
				}
				if v := r1[2*px]; v > m {
					m, a = v, 2
				}
				if v := r1[2*px+1]; v > m {
					m, a = v, 3
				}
				m += b
				if !(m > 0) {
					m, a = 0, argOff
				}
				yr[px], ar[px] = m, a
			}
		}
	}
}

// route[a] spreads a pooled gradient over its 2×2 window by arg a.
var route = [argOff + 1][4]float32{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}, {0, 0, 0, 0}}

// poolBackward sets gz, the gradient with respect to the convolution
// output (laid out as z in poolForward: rows rs apart, channels ld apart;
// all rs columns of the h rows are set), from gy, the gradient with
// respect to the block output: each pooled gradient goes to its window's
// maximum when the ReLU was on, zero elsewhere. It also sets (or, with
// acc, adds to) db the per-channel sums of the gradients that passed, when
// db is not nil.
func poolBackward(g convGeom, gy []float32, arg []uint8, gz []float32, rs, ld int, db []float32, acc bool) {
	h, w, ho, wo := g.h, rs, g.ho(), g.wo()
	nfull, k1, k2, k3 := poolMasks(wo)
	for c := 0; c < g.cout; c++ {
		gc := gz[c*ld : c*ld+h*rs]
		var s float32
		if simd {
			_ = gc[(2*ho-1)*w+2*wo-1]
			_ = gy[(c+1)*ho*wo-1]
			_ = arg[(c+1)*ho*wo-1]
			s = poolBwdAVX(&gc[0], w, ho, nfull, &gy[c*ho*wo], &arg[c*ho*wo], wo, k1, k2, k3)
		} else {
			for py := 0; py < ho; py++ {
				o := (c*ho + py) * wo
				gr, ar := gy[o:o+wo], arg[o:o+wo]
				r0 := gc[2*py*w : 2*py*w+2*wo]
				r1 := gc[(2*py+1)*w : (2*py+1)*w+2*wo]
				for px, v := range gr {
					t := &route[ar[px]]
					r0[2*px], r0[2*px+1], r1[2*px], r1[2*px+1] = v*t[0], v*t[1], v*t[2], v*t[3]
					s += v * (t[0] + t[1] + t[2] + t[3])
				}
			}
		}
		if 2*wo < w {
			for row := 0; row < 2*ho; row++ {
				clear(gc[row*w+2*wo : (row+1)*w])
			}
		}
		if h%2 == 1 {
			clear(gc[(h-1)*w:])
		}
		if db != nil {
			if acc {
				db[c] += s
			} else {
				db[c] = s
			}
		}
	}
}
