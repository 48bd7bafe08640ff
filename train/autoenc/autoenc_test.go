package autoenc

import (
	"bytes"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

func randomImages(n, s int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*s*s)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// loss64 is the batch loss of TrainStep, computed by the forward pass.
func loss64(m *Model, x []float32) float64 {
	e, err := m.Errors(x)
	if err != nil {
		panic(err)
	}
	var s float64
	for _, v := range e {
		s += v
	}
	return s / float64(len(e))
}

// TestGradient compares the backward pass with central finite differences
// of the loss, for every bias and a sample of kernel weights of every
// layer (the upsampling, pooling and ReLU in between included).
func TestGradient(t *testing.T) {
	m, err := New(Config{Size: 8, Channels: 3, LearnRate: 1e-3, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	for l := range m.b { // non-zero biases, so that no ReLU sits at its kink
		for i := range m.b[l] {
			m.b[l][i] = 0.05 * float32(i+1)
		}
	}
	x := randomImages(3, 8, 2)
	s2 := 64
	g := m.newGrads()
	p := m.newPass()
	sum := make([][4][]float64, 2)
	for k := range sum {
		for l := range m.w {
			sum[k][l] = make([]float64, len(m.w[l])+len(m.b[l]))
		}
	}
	for i := range 3 {
		im := x[i*s2 : (i+1)*s2]
		m.forward(im, p)
		m.backward(im, p, g, float32(1.0/float64(3*s2)))
		for l := range m.w {
			for j, v := range g.w[l] {
				sum[0][l][j] += float64(v)
			}
			for j, v := range g.b[l] {
				sum[0][l][len(m.w[l])+j] += float64(v)
			}
		}
	}
	const h = 1e-3
	checked := 0
	for l := range m.w {
		params := [][]float32{m.w[l], m.b[l]}
		for pi, par := range params {
			for j := 0; j < len(par); j += 1 + 3*(1-pi) { // every bias, every 4th weight
				old := par[j]
				par[j] = old + h
				lp := loss64(m, x)
				par[j] = old - h
				lm := loss64(m, x)
				par[j] = old
				num := (lp - lm) / (2 * h)
				idx := j
				if pi == 1 {
					idx += len(m.w[l])
				}
				ana := sum[0][l][idx]
				if d := math.Abs(num - ana); d > 2e-3*math.Max(math.Abs(num), 0.05) {
					t.Errorf("layer %d param %d (bias %v): analytic %.6g, numeric %.6g", l+1, j, pi == 1, ana, num)
				}
				checked++
			}
		}
	}
	if checked < 40 {
		t.Fatalf("checked %d parameters", checked)
	}
}

// TestTrain: training lowers the reconstruction error of the images it
// learns from; results do not depend on the thread count; Save and Load
// round-trip the weights.
func TestTrain(t *testing.T) {
	x := randomImages(8, 16, 3)
	// Smooth images (a learnable structure): a 3×3 running mean of noise.
	sm := make([]float32, len(x))
	for i := range 8 {
		for r := range 16 {
			for c := range 16 {
				var s float32
				for dr := -1; dr <= 1; dr++ {
					for dc := -1; dc <= 1; dc++ {
						s += x[i*256+((r+dr+16)%16)*16+(c+dc+16)%16]
					}
				}
				sm[i*256+r*16+c] = s / 9
			}
		}
	}
	train := func(procs int) *Model {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		m, err := New(Config{Size: 16, Channels: 4, LearnRate: 1e-2, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		for range 100 {
			if _, err := m.TrainStep(sm); err != nil {
				t.Fatal(err)
			}
		}
		return m
	}
	m0, _ := New(Config{Size: 16, Channels: 4, LearnRate: 1e-2, Seed: 1})
	before := loss64(m0, sm)
	m := train(1)
	after := loss64(m, sm)
	if !(after < 0.5*before) {
		t.Errorf("100 steps took the loss from %.4g to %.4g, want less than half", before, after)
	}
	m2 := train(4)
	for l := range m.w {
		for j := range m.w[l] {
			if m.w[l][j] != m2.w[l][j] {
				t.Fatalf("1 and 4 threads differ at layer %d weight %d", l, j)
			}
		}
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := loss64(back, sm); got != after {
		t.Errorf("loaded model: loss %g, saved %g", got, after)
	}
	if _, err := m.Errors(sm[:100]); err == nil {
		t.Error("a partial image was accepted")
	}
	bad := append([]float32(nil), sm[:256]...)
	bad[7] = float32(math.NaN())
	if _, err := m.Errors(bad); err == nil {
		t.Error("a NaN pixel was accepted")
	}
}

// FuzzLoad: no input makes Load panic or return a model whose shapes
// disagree with its configuration.
func FuzzLoad(f *testing.F) {
	m, _ := New(Config{Size: 4, Channels: 1, LearnRate: 1e-3, Seed: 1})
	var buf bytes.Buffer
	_ = m.Save(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(`{"format":"turbindex autoencoder v1","config":{"size":8,"channels":2,"learn_rate":0.1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Load(bytes.NewReader(b))
		if err != nil {
			return
		}
		if _, err := m.Errors(make([]float32, m.cfg.Size*m.cfg.Size)); err != nil {
			t.Fatal(err)
		}
	})
}
