package cnn

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/turbindex/turbindex/train/cnn/cuda"
	"github.com/turbindex/turbindex/train/cnn/cuda/kernels"
)

// TestCUDAKernelsOnGPU runs the compiled kernels on a GPU and compares them
// with the CPU engine, as TestCUDAKernelBodies does with their bodies on the
// CPU. It skips without a driver or without PTX (TURBINDEX_PTX names a
// freshly built one), and fails instead when TURBINDEX_REQUIRE_CUDA=1.
func TestCUDAKernelsOnGPU(t *testing.T) {
	skip := func(format string, args ...any) {
		t.Helper()
		if cuda.Required() {
			t.Fatalf(cuda.EnvRequire+"=1 but: "+format, args...)
		}
		t.Skipf(format, args...)
	}
	d, err := cuda.OpenDriver()
	if err != nil {
		skip("%v", err)
	}
	ptx, err := kernels.PTX()
	if errors.Is(err, kernels.ErrNoPTX) {
		skip("%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := d.NewContext(0, ptx)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	gk := &gpuKernels{t: t, c: ctx}
	ctx.Do(func() error {
		for _, g := range []convGeom{{1, 5, 5, 2}, {3, 7, 9, 5}, {2, 8, 6, 3}, {4, 13, 4, 1}, {8, 64, 64, 16}} {
			checkKernels(t, gk, g, 5, simd)
		}
		// Two runs bitwise equal: no atomics, fixed summation order.
		g := convGeom{8, 32, 32, 16}
		gy := make([]float32, 9*g.outSize())
		arg := make([]uint8, len(gy))
		for i := range gy {
			gy[i], arg[i] = float32(i%13)-6, uint8(i%5)
		}
		a, b := make([]float32, g.cout), make([]float32, g.cout)
		gk.BiasGrad(9, g.cout, g.ho(), g.wo(), gy, arg, a)
		gk.BiasGrad(9, g.cout, g.ho(), g.wo(), gy, arg, b)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("bias gradient %d differs between two runs: %g, %g", i, a[i], b[i])
			}
		}
		return nil
	})
}

// gpuKernels runs the kernels on the GPU: every call uploads its inputs,
// launches, downloads its outputs and frees the buffers.
type gpuKernels struct {
	t    *testing.T
	c    *cuda.Context
	bufs []cuda.Ptr
}

func gpuUp[T float32 | uint8](k *gpuKernels, s []T) cuda.Ptr {
	var z T
	n := int64(len(s)) * int64(unsafe.Sizeof(z))
	p, err := k.c.Alloc(max(n, 4))
	if err != nil {
		k.t.Fatal(err)
	}
	k.bufs = append(k.bufs, p)
	if err := cuda.Upload(k.c, p, s); err != nil {
		k.t.Fatal(err)
	}
	return p
}

func gpuDown[T float32 | uint8](k *gpuKernels, dst []T, p cuda.Ptr) {
	if err := cuda.Download(k.c, dst, p); err != nil {
		k.t.Fatal(err)
	}
}

func (k *gpuKernels) launch(name string, total int, args ...any) {
	if err := k.c.Launch(name, int64(total), args...); err != nil {
		k.t.Fatal(err)
	}
}

func (k *gpuKernels) free() {
	for _, p := range k.bufs {
		k.c.Free(p)
	}
	k.bufs = k.bufs[:0]
}

func i32(v int) int32 { return int32(v) }
func i64(v int) int64 { return int64(v) }

func (k *gpuKernels) Im2col(n, cin, h, w, ld, colStride int, x, col []float32) {
	defer k.free()
	px, pc := gpuUp(k, x), gpuUp(k, col)
	k.launch("im2col", n*cin*9*h*w, i32(cin), i32(h), i32(w), i32(ld), i64(colStride), px, pc)
	gpuDown(k, col, pc)
}

func (k *gpuKernels) Col2im(n, cin, h, w, ld, colStride int, col, dx []float32) {
	defer k.free()
	pc, pd := gpuUp(k, col), gpuUp(k, dx)
	k.launch("col2im", n*cin*h*w, i32(cin), i32(h), i32(w), i32(ld), i64(colStride), pc, pd)
	gpuDown(k, dx, pd)
}

func (k *gpuKernels) PoolForward(n, cout, ho, wo, rs, ld, zStride int, z, bias, y []float32, arg []uint8) {
	defer k.free()
	pz, pb, py, pa := gpuUp(k, z), gpuUp(k, bias), gpuUp(k, y), gpuUp(k, arg)
	k.launch("pool_forward", n*cout*ho*wo, i32(cout), i32(ho), i32(wo), i32(rs), i32(ld), i64(zStride), pz, pb, py, pa)
	gpuDown(k, y, py)
	gpuDown(k, arg, pa)
}

func (k *gpuKernels) PoolBackward(n, cout, h, rs, ld, zStride, ho, wo int, gy []float32, arg []uint8, gz []float32) {
	defer k.free()
	pg, pa, pz := gpuUp(k, gy), gpuUp(k, arg), gpuUp(k, gz)
	k.launch("pool_backward", n*cout*h*rs, i32(cout), i32(h), i32(rs), i32(ld), i64(zStride), i32(ho), i32(wo), pg, pa, pz)
	gpuDown(k, gz, pz)
}

func (k *gpuKernels) BiasGrad(n, cout, ho, wo int, gy []float32, arg []uint8, db []float32) {
	defer k.free()
	pg, pa, pd := gpuUp(k, gy), gpuUp(k, arg), gpuUp(k, db)
	k.launch("bias_grad", cout, i32(n), i32(cout), i32(ho), i32(wo), pg, pa, pd)
	gpuDown(k, db, pd)
}

func (k *gpuKernels) SumParts(nparts, n int, parts, out []float32) {
	defer k.free()
	pp, po := gpuUp(k, parts), gpuUp(k, out)
	k.launch("sum_parts", n, i32(nparts), i64(n), pp, po)
	gpuDown(k, out, po)
}
