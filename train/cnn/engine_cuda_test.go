package cnn

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/turbindex/turbindex/train/cnn/cuda"
	"github.com/turbindex/turbindex/train/cnn/cuda/kernels"
)

// gpuEngine opens the CUDA engine on GPU 0, or skips (fails with
// TURBINDEX_REQUIRE_CUDA=1) where there is no driver or no PTX.
func gpuEngine(t *testing.T) *cudaEngine {
	t.Helper()
	skip := func(err error) {
		t.Helper()
		if cuda.Required() {
			t.Fatalf("%s=1 but: %v", cuda.EnvRequire, err)
		}
		t.Skip(err)
	}
	d, err := cuda.OpenDriver()
	if err != nil {
		skip(err)
	}
	ptx, err := kernels.PTX()
	if errors.Is(err, kernels.ErrNoPTX) {
		skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	e, err := newCUDAEngine(d, 0, ptx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

func closeTo(t *testing.T, what string, got, want []float32, rtol float64) {
	t.Helper()
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > rtol*(scale+1e-30) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s[%d]: GPU %g, CPU %g (|Δ| %.3g > %.1g × max|CPU| %.3g)", what, i, got[i], want[i], d, rtol, scale)
		}
	}
}

// TestCUDAEngineParity compares the CUDA engine's forward and backward
// passes with the CPU engine on small odd shapes, within float32 rounding
// of sums taken in another order.
func TestCUDAEngineParity(t *testing.T) {
	ge := gpuEngine(t)
	ce := &cpuEngine{}
	rng := rand.New(rand.NewPCG(3, 5))
	for _, g := range []convGeom{{1, 5, 5, 2}, {3, 7, 9, 5}, {2, 8, 6, 3}, {16, 33, 31, 32}} {
		n := 5
		rnd := func(k int) []float32 {
			s := make([]float32, k)
			for i := range s {
				s[i] = float32(rng.NormFloat64())
			}
			return s
		}
		x, w, bias := rnd(n*g.inSize()), rnd(g.cout*g.k()), rnd(g.cout)
		yc, yg := make([]float32, n*g.outSize()), make([]float32, n*g.outSize())
		ac, ag := make([]uint8, len(yc)), make([]uint8, len(yc))
		ce.convForward(g, n, x, w, bias, yc, ac)
		ge.convForward(g, n, x, w, bias, yg, ag)
		closeTo(t, "y", yg, yc, 1e-5)
		gy := rnd(len(yc))
		dxc, dwc, dbc := make([]float32, len(x)), make([]float32, len(w)), make([]float32, g.cout)
		dxg, dwg, dbg := make([]float32, len(x)), make([]float32, len(w)), make([]float32, g.cout)
		ce.convBackward(g, n, x, w, yc, gy, ac, dxc, dwc, dbc)
		ge.convBackward(g, n, x, w, yc, gy, ac, dxg, dwg, dbg)
		closeTo(t, "dx", dxg, dxc, 1e-5)
		closeTo(t, "dw", dwg, dwc, 1e-5)
		closeTo(t, "db", dbg, dbc, 1e-5)
	}
}

// TestCUDATrainingSteps trains the default network three steps on the CPU
// engine and on the CUDA engine from the same start: losses and parameters
// agree within tolerance, and two GPU runs agree bitwise.
func TestCUDATrainingSteps(t *testing.T) {
	ge := gpuEngine(t)
	train := func(eng engine) ([]float64, []uint32, *Model) {
		cfg := DefaultConfig(TaskClassify, 32)
		cfg.Seed = 11
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if eng != nil {
			m.eng = eng
		}
		ds := makeFields(7, 3*cfg.Batch, 32, TaskClassify)
		var losses []float64
		for i := 0; i < 3; i++ {
			x, y := ds.batch(i*cfg.Batch, cfg.Batch, m.pixels())
			l, err := m.TrainStep(x, y)
			if err != nil {
				t.Fatal(err)
			}
			losses = append(losses, l)
		}
		return losses, paramBits(m), m
	}
	lc, _, mc := train(nil)
	lg, bg, mg := train(ge)
	for i := range lc {
		if math.Abs(lg[i]-lc[i]) > 1e-4*math.Abs(lc[i]) {
			t.Fatalf("step %d: loss GPU %.7g, CPU %.7g", i, lg[i], lc[i])
		}
	}
	for i, p := range mc.params {
		closeTo(t, "parameter "+p.name, mg.params[i].data(), p.data(), 1e-3)
	}
	if _, bg2, _ := train(ge); equalBits(bg, bg2) != -1 {
		t.Fatal("two GPU runs differ")
	}
}
