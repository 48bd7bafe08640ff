package cnn

import (
	"fmt"

	"github.com/turbindex/turbindex/train/cnn/cuda"
)

// cudaEngine runs the convolution blocks on a GPU: im2col, one cuBLAS
// product per image, and the fused bias + ReLU + pool kernels of
// cuda/kernels; the backward pass routes the pooled gradient, sums the
// per-image weight gradients and the bias gradient in a fixed order (no
// atomics), and gathers the input gradient with col2im. So two runs on one
// GPU are bitwise equal.
//
// This first form copies each call's inputs to the GPU and its outputs
// back, through the engine interface's host slices: it is the reference the
// GPU parity tests check against the CPU engine, before activations stay on
// the GPU between layers. It is not selected for training until those tests
// have run on a GPU (see cuda.Probe).
type cudaEngine struct {
	ctx  *cuda.Context
	blas *cuda.CUBLAS
	bufs map[string]devBuf
	err  error // the first failure; the engine interface has no error returns
}

type devBuf struct {
	p     cuda.Ptr
	bytes int64
}

// newCUDAEngine opens the GPU ordinal with the embedded (or TURBINDEX_PTX)
// kernels.
func newCUDAEngine(d *cuda.Driver, ordinal int, ptx []byte) (*cudaEngine, error) {
	ctx, err := d.NewContext(ordinal, ptx)
	if err != nil {
		return nil, err
	}
	e := &cudaEngine{ctx: ctx, bufs: map[string]devBuf{}}
	if err := ctx.Do(func() (err error) { e.blas, err = cuda.OpenCUBLAS(); return err }); err != nil {
		ctx.Close()
		return nil, err
	}
	return e, nil
}

// close frees the device memory, the cuBLAS handle and the context.
func (e *cudaEngine) close() {
	e.ctx.Do(func() error {
		for _, b := range e.bufs {
			e.ctx.Free(b.p)
		}
		e.blas.Close()
		return nil
	})
	e.ctx.Close()
}

// buf returns the device buffer name of at least bytes, growing it.
func (e *cudaEngine) buf(name string, bytes int64) cuda.Ptr {
	if b, ok := e.bufs[name]; ok && b.bytes >= bytes {
		return b.p
	} else if ok {
		e.ctx.Free(b.p)
	}
	p, err := e.ctx.Alloc(max(bytes, 4))
	if err != nil {
		if cuda.OutOfMemory(err) {
			err = fmt.Errorf("out of GPU memory allocating %s (%.1f MiB): lower the batch size: %w", name, float64(bytes)/(1<<20), err)
		}
		panic(engineFailure{err})
	}
	e.bufs[name] = devBuf{p, bytes}
	return p
}

// engineFailure carries a driver error out of the engine's methods, which
// have no error results; run turns it back into an error.
type engineFailure struct{ err error }

// run executes f on the GPU's thread, and records the first failure.
func (e *cudaEngine) run(f func()) {
	if e.err != nil {
		return
	}
	e.err = e.ctx.Do(func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				ef, ok := r.(engineFailure)
				if !ok {
					panic(r)
				}
				err = ef.err
			}
		}()
		f()
		return nil
	})
}

func must(err error) {
	if err != nil {
		panic(engineFailure{err})
	}
}

func (e *cudaEngine) upload(name string, s []float32) cuda.Ptr {
	p := e.buf(name, 4*int64(len(s)))
	must(cuda.Upload(e.ctx, p, s))
	return p
}

func (e *cudaEngine) launch(name string, total int, args ...any) {
	must(e.ctx.Launch(name, int64(total), args...))
}

func (e *cudaEngine) convForward(g convGeom, n int, x, w, bias, y []float32, arg []uint8) {
	e.run(func() {
		k, ld, hw := g.k(), g.ld(), g.hw()
		px, pw, pb := e.upload("x", x[:n*g.inSize()]), e.upload("w", w[:g.cout*k]), e.upload("bias", bias[:g.cout])
		col := e.buf("col", 4*int64(n*k*ld))
		z := e.buf("z", 4*int64(n*g.cout*ld))
		py, pa := e.buf("y", 4*int64(n*g.outSize())), e.buf("arg", int64(n*g.outSize()))
		e.launch("im2col", n*g.cin*9*hw, int32(g.cin), int32(g.h), int32(g.w), int32(ld), int64(k*ld), px, col)
		for i := 0; i < n; i++ {
			must(e.blas.Sgemm(false, false, g.cout, hw, k, pw, k, col+cuda.Ptr(4*i*k*ld), ld, z+cuda.Ptr(4*i*g.cout*ld), ld))
		}
		e.launch("pool_forward", n*g.outSize(), int32(g.cout), int32(g.ho()), int32(g.wo()), int32(g.w), int32(ld), int64(g.cout*ld), z, pb, py, pa)
		must(cuda.Download(e.ctx, y[:n*g.outSize()], py))
		must(cuda.Download(e.ctx, arg[:n*g.outSize()], pa))
	})
	if e.err != nil {
		panic(fmt.Sprintf("cnn: CUDA engine: %v", e.err))
	}
}

func (e *cudaEngine) convBackward(g convGeom, n int, x, w, y, gy []float32, arg []uint8, dx, dw, db []float32) {
	e.run(func() {
		k, ld, hw, out := g.k(), g.ld(), g.hw(), g.outSize()
		pgy := e.upload("gy", gy[:n*out])
		parg := e.buf("arg", int64(n*out))
		must(cuda.Upload(e.ctx, parg, arg[:n*out]))
		gz := e.buf("gz", 4*int64(n*g.cout*ld))
		e.launch("pool_backward", n*g.cout*g.h*g.w, int32(g.cout), int32(g.h), int32(g.w), int32(ld), int64(g.cout*ld), int32(g.ho()), int32(g.wo()), pgy, parg, gz)
		col := e.buf("col", 4*int64(n*k*ld))
		if dw != nil {
			px := e.upload("x", x[:n*g.inSize()])
			e.launch("im2col", n*g.cin*9*hw, int32(g.cin), int32(g.h), int32(g.w), int32(ld), int64(k*ld), px, col)
			parts := e.buf("dwparts", 4*int64(n*g.cout*k))
			for i := 0; i < n; i++ {
				must(e.blas.Sgemm(false, true, g.cout, k, hw, gz+cuda.Ptr(4*i*g.cout*ld), ld, col+cuda.Ptr(4*i*k*ld), ld, parts+cuda.Ptr(4*i*g.cout*k), k))
			}
			pdw, pdb := e.buf("dw", 4*int64(g.cout*k)), e.buf("db", 4*int64(g.cout))
			e.launch("sum_parts", g.cout*k, int32(n), int64(g.cout*k), parts, pdw)
			e.launch("bias_grad", g.cout, int32(n), int32(g.cout), int32(g.ho()), int32(g.wo()), pgy, parg, pdb)
			must(cuda.Download(e.ctx, dw[:g.cout*k], pdw))
			must(cuda.Download(e.ctx, db[:g.cout], pdb))
		}
		if dx != nil {
			pw := e.upload("w", w[:g.cout*k])
			for i := 0; i < n; i++ {
				must(e.blas.Sgemm(true, false, k, hw, g.cout, pw, k, gz+cuda.Ptr(4*i*g.cout*ld), ld, col+cuda.Ptr(4*i*k*ld), ld))
			}
			pdx := e.buf("dx", 4*int64(n*g.inSize()))
			e.launch("col2im", n*g.inSize(), int32(g.cin), int32(g.h), int32(g.w), int32(ld), int64(k*ld), col, pdx)
			must(cuda.Download(e.ctx, dx[:n*g.inSize()], pdx))
		}
	})
	if e.err != nil {
		panic(fmt.Sprintf("cnn: CUDA engine: %v", e.err))
	}
}
