package cnn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/turbindex/turbindex/train/cnn/cuda/kernels/host"
)

// TestCUDAKernelBodies runs the CUDA kernels' bodies (cuda/kernels/host/kernels.h)
// on the CPU over every thread index and compares them with the CPU engine
// on odd shapes: bitwise for the copies, the pooling and its routing and
// the ordered sums, within float32 rounding for the bias gradient, whose
// summation order differs. Both CPU paths (AVX-512 and portable) serve as
// references where the machine has both.
func TestCUDAKernelBodies(t *testing.T) {
	if !host.Available {
		t.Skip("the kernel bodies run on the CPU through cgo: this build has CGO_ENABLED=0 (or no C compiler)")
	}
	paths := []bool{false}
	if hasAVX512 {
		paths = append(paths, true)
	}
	old := simd
	defer func() { simd = old }()
	for _, s := range paths {
		simd = s
		for _, g := range []convGeom{{1, 5, 5, 2}, {3, 7, 9, 5}, {2, 8, 6, 3}, {4, 13, 4, 1}} {
			checkKernels(t, hostKernels{}, g, 3, s)
		}
	}
}

// kernelRunner runs the CUDA kernels over every index, somewhere: on the
// CPU (hostKernels) or on a GPU (gpuKernels). Its methods take the
// arguments of the host package's functions.
type kernelRunner interface {
	Im2col(n, cin, h, w, ld, colStride int, x, col []float32)
	Col2im(n, cin, h, w, ld, colStride int, col, dx []float32)
	PoolForward(n, cout, ho, wo, rs, ld, zStride int, z, bias, y []float32, arg []uint8)
	PoolBackward(n, cout, h, rs, ld, zStride, ho, wo int, gy []float32, arg []uint8, gz []float32)
	BiasGrad(n, cout, ho, wo int, gy []float32, arg []uint8, db []float32)
	SumParts(nparts, n int, parts, out []float32)
}

// hostKernels runs the kernels' bodies on the CPU.
type hostKernels struct{}

func (hostKernels) Im2col(n, cin, h, w, ld, colStride int, x, col []float32) {
	host.Im2col(n, cin, h, w, ld, colStride, x, col)
}
func (hostKernels) Col2im(n, cin, h, w, ld, colStride int, col, dx []float32) {
	host.Col2im(n, cin, h, w, ld, colStride, col, dx)
}
func (hostKernels) PoolForward(n, cout, ho, wo, rs, ld, zStride int, z, bias, y []float32, arg []uint8) {
	host.PoolForward(n, cout, ho, wo, rs, ld, zStride, z, bias, y, arg)
}
func (hostKernels) PoolBackward(n, cout, h, rs, ld, zStride, ho, wo int, gy []float32, arg []uint8, gz []float32) {
	host.PoolBackward(n, cout, h, rs, ld, zStride, ho, wo, gy, arg, gz)
}
func (hostKernels) BiasGrad(n, cout, ho, wo int, gy []float32, arg []uint8, db []float32) {
	host.BiasGrad(n, cout, ho, wo, gy, arg, db)
}
func (hostKernels) SumParts(nparts, n int, parts, out []float32) {
	host.SumParts(nparts, n, parts, out)
}

// checkKernels compares the kernels run by k with the CPU engine.
func checkKernels(t *testing.T, k kernelRunner, g convGeom, n int, avx bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(g.cin*1000+g.h*10+g.w), 7))
	// Values on a coarse grid, so that pooling windows have ties.
	val := func() float32 { return float32(rng.IntN(9)-4) / 4 }
	in, out, ld, kk := g.inSize(), g.outSize(), g.ld(), g.k()
	x := make([]float32, n*in)
	for i := range x {
		x[i] = val()
	}

	// im2col: a copy, so bitwise.
	colStride := kk * ld
	gotCol := make([]float32, n*colStride)
	k.Im2col(n, g.cin, g.h, g.w, ld, colStride, x, gotCol)
	var pad []float32
	for i := 0; i < n; i++ {
		want := make([]float32, colStride)
		im2col(g, x[i*in:(i+1)*in], want, &pad)
		for r := 0; r < kk; r++ {
			for p := 0; p < g.hw(); p++ {
				if a, b := gotCol[i*colStride+r*ld+p], want[r*ld+p]; a != b {
					t.Fatalf("avx=%v %+v: im2col image %d row %d col %d: kernel %g, engine %g", avx, g, i, r, p, a, b)
				}
			}
		}
	}

	// col2im: the same additions in the same order, so bitwise.
	col := make([]float32, n*colStride)
	for i := range col {
		col[i] = val()
	}
	gotDx := make([]float32, n*in)
	k.Col2im(n, g.cin, g.h, g.w, ld, colStride, col, gotDx)
	for i := 0; i < n; i++ {
		want := make([]float32, in)
		col2im(g, col[i*colStride:(i+1)*colStride], want, &pad)
		for j := range want {
			if a, b := gotDx[i*in+j], want[j]; a != b {
				t.Fatalf("avx=%v %+v: col2im image %d pixel %d: kernel %g, engine %g", avx, g, i, j, a, b)
			}
		}
	}

	// Bias + ReLU + max-pool with argmax, and its backward pass.
	zStride := g.cout * ld
	z := make([]float32, n*zStride)
	for i := range z {
		z[i] = val()
	}
	bias := make([]float32, g.cout)
	for i := range bias {
		bias[i] = val() / 2
	}
	gotY, gotArg := make([]float32, n*out), make([]uint8, n*out)
	k.PoolForward(n, g.cout, g.ho(), g.wo(), g.w, ld, zStride, z, bias, gotY, gotArg)
	wantY, wantArg := make([]float32, n*out), make([]uint8, n*out)
	for i := 0; i < n; i++ {
		poolForward(g, z[i*zStride:(i+1)*zStride], g.w, ld, bias, wantY[i*out:(i+1)*out], wantArg[i*out:(i+1)*out])
	}
	for j := range wantY {
		if gotY[j] != wantY[j] || gotArg[j] != wantArg[j] {
			t.Fatalf("avx=%v %+v: pool output %d: kernel (%g, arg %d), engine (%g, arg %d)", avx, g, j, gotY[j], gotArg[j], wantY[j], wantArg[j])
		}
	}

	gy := make([]float32, n*out)
	for i := range gy {
		gy[i] = rng.Float32() - 0.5
	}
	gotGz := make([]float32, n*zStride)
	k.PoolBackward(n, g.cout, g.h, g.w, ld, zStride, g.ho(), g.wo(), gy, wantArg, gotGz)
	wantDb := make([]float32, g.cout)
	for i := 0; i < n; i++ {
		wantGz := make([]float32, zStride)
		poolBackward(g, gy[i*out:(i+1)*out], wantArg[i*out:(i+1)*out], wantGz, g.w, ld, wantDb, i > 0)
		for c := 0; c < g.cout; c++ {
			for q := 0; q < g.h*g.w; q++ {
				if a, b := gotGz[i*zStride+c*ld+q], wantGz[c*ld+q]; a != b {
					t.Fatalf("avx=%v %+v: pool gradient image %d channel %d element %d: kernel %g, engine %g", avx, g, i, c, q, a, b)
				}
			}
		}
	}
	gotDb := make([]float32, g.cout)
	k.BiasGrad(n, g.cout, g.ho(), g.wo(), gy, wantArg, gotDb)
	for c := range gotDb {
		if d := math.Abs(float64(gotDb[c] - wantDb[c])); d > 1e-5*(1+math.Abs(float64(wantDb[c]))) {
			t.Fatalf("avx=%v %+v: bias gradient %d: kernel %g, engine %g", avx, g, c, gotDb[c], wantDb[c])
		}
	}

	// The ordered sum of per-image weight gradients: the engine's addTo
	// in the same order, so bitwise.
	nw := g.cout * kk
	parts := make([]float32, n*nw)
	for i := range parts {
		parts[i] = rng.Float32() - 0.5
	}
	gotW := make([]float32, nw)
	k.SumParts(n, nw, parts, gotW)
	wantW := make([]float32, nw)
	for p := 0; p < n; p++ {
		addTo(wantW, parts[p*nw:(p+1)*nw])
	}
	for j := range wantW {
		if gotW[j] != wantW[j] {
			t.Fatalf("avx=%v %+v: summed weight gradient %d: kernel %g, engine %g", avx, g, j, gotW[j], wantW[j])
		}
	}
}
