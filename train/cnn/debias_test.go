package cnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refDebias extends refNet with the nuisance head: the float64 reference of
// a Debias model's two losses.
type refDebias struct {
	*refNet
	n int
}

// forward returns the outputs z and the embedding (last hidden layer after
// ReLU, before dropout) of the n images of x.
func (r refDebias) forward(x []float64) (z, emb []float64) {
	n := r.n
	h := x
	for l, g := range r.geoms {
		_, h = naiveBlock(g, n, h, r.params[2*l], r.params[2*l+1])
	}
	emb = h
	pi := 2 * len(r.geoms)
	for li, d := range r.cfg.denseShapes() {
		w, b := r.params[pi], r.params[pi+1]
		out := make([]float64, n*d[1])
		pre := make([]float64, n*d[1])
		for i := 0; i < n; i++ {
			for u := 0; u < d[1]; u++ {
				s := b[u]
				for f := 0; f < d[0]; f++ {
					s += h[i*d[0]+f] * w[f*d[1]+u]
				}
				if li < len(r.cfg.Dense) {
					s = math.Max(s, 0)
					pre[i*d[1]+u] = s
					if r.masks != nil {
						s *= r.masks[li][i*d[1]+u]
					}
				}
				out[i*d[1]+u] = s
			}
		}
		if li < len(r.cfg.Dense) {
			emb = pre
		}
		h = out
		pi += 2
	}
	return h, emb
}

// losses returns the class loss and the nuisance head's mean squared error.
func (r refDebias) losses(x []float64, y, nu []float32) (lc, ln float64) {
	z, emb := r.forward(x)
	for i, zi := range z {
		t := float64(y[i])
		if r.cfg.Task == TaskClassify {
			lc += math.Max(zi, 0) - zi*t + math.Log1p(math.Exp(-math.Abs(zi)))
		} else {
			lc += (zi - t) * (zi - t)
		}
	}
	w, b := r.params[len(r.params)-2], r.params[len(r.params)-1]
	d := len(emb) / r.n
	// The head reads the embedding standardised over the batch.
	std := make([]float64, len(emb))
	for f := range d {
		var m, v float64
		for i := range r.n {
			m += emb[i*d+f] / float64(r.n)
		}
		for i := range r.n {
			v += (emb[i*d+f] - m) * (emb[i*d+f] - m) / float64(r.n)
		}
		for i := range r.n {
			std[i*d+f] = (emb[i*d+f] - m) / math.Sqrt(v+batchStdEps)
		}
	}
	for i := range r.n {
		s := b[0]
		for f := range d {
			s += std[i*d+f] * w[f]
		}
		e := s - float64(nu[i])
		ln += e * e
	}
	return lc / float64(r.n), ln / float64(r.n)
}

// TestGradientReversal checks the debiasing graph against finite
// differences of the float64 reference: the forward losses match; the
// nuisance head's parameters get +∂L_nuisance/∂φ (the head learns to
// predict the nuisance), and every other parameter gets
// ∂L_class/∂θ − λ ∂L_nuisance/∂θ (the reversal). A sign error or a missing λ
// in the reversal fails it; so does a head that does not see the embedding.
func TestGradientReversal(t *testing.T) {
	cases := []Config{
		{Task: TaskClassify, ImageSize: 8, Filters: []int{2, 2}, Dense: []int{5, 4}, Dropout: 0.25, LearnRate: 1e-3, Batch: 6, Seed: 21, Debias: true, DebiasLambda: 0.7},
		{Task: TaskClassify, ImageSize: 9, Filters: []int{3}, Dense: nil, LearnRate: 1e-3, Batch: 5, Seed: 22, Debias: true, DebiasLambda: 2.5},
		{Task: TaskRegress, ImageSize: 10, Filters: []int{2, 2}, Dense: []int{6}, Dropout: 0.5, LearnRate: 1e-3, Batch: 4, Seed: 23, Debias: true, DebiasLambda: 0.3},
	}
	for _, kind := range gemmKinds() {
		for ci, cfg := range cases {
			t.Run(fmt.Sprintf("%v/%d", kind, ci), func(t *testing.T) {
				withGemm(kind, func() { reversalCheck(t, cfg) })
			})
		}
	}
}

// reversalCheck runs the check of one configuration. Batches are of 5 or
// more images: over 2 or 3 a unit's spread can be tiny, and the
// standardisation then magnifies the float32 rounding of the embedding
// beyond the tolerance.
func reversalCheck(t *testing.T, cfg Config) {
	r := rand.New(rand.NewPCG(cfg.Seed, 5))
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.params {
		if p.isBias {
			for i := range p.data() {
				p.data()[i] = float32(0.1 * r.NormFloat64())
			}
		}
	}
	n := cfg.Batch
	x, y := randomBatch(r, cfg, n)
	nu := make([]float32, n)
	for i := range nu {
		nu[i] = float32(r.NormFloat64())
	}
	gr, err := m.graphFor(kindTrain, n)
	if err != nil {
		t.Fatal(err)
	}
	copy(gr.y.Data().([]float32), y)
	copy(gr.nu.Data().([]float32), nu)
	ref := refDebias{newRefNet(m), n}
	for i, mask := range gr.masks {
		dropoutMask(mask.Data().([]float32), cfg.Dropout, cfg.Seed, 5, i)
		ref.masks = append(ref.masks, to64(mask.Data().([]float32)))
	}
	if err := gr.run(x); err != nil {
		t.Fatal(err)
	}
	x64 := to64(x)
	lc, ln := ref.losses(x64, y, nu)
	if math.Abs(gr.loss.last-lc) > 1e-5*(1+lc) || math.Abs(gr.nloss.last-ln) > 1e-5*(1+ln) {
		t.Fatalf("losses %.8g, %.8g; reference %.8g, %.8g", gr.loss.last, gr.nloss.last, lc, ln)
	}
	lam := cfg.DebiasLambda
	head := len(m.params) - 2
	scale := 0.0
	for i := range m.params {
		for _, g := range f32s(gr.grads[i].Value()) {
			scale = math.Max(scale, math.Abs(float64(g)))
		}
	}
	c := &fdCheck{t: t, name: "reversal"}
	for i, p := range m.params {
		grad := f32s(gr.grads[i].Value())
		w := ref.params[i]
		for j := range w {
			w0 := w[j]
			f := func(d float64) float64 {
				w[j] = w0 + d
				lc, ln := ref.losses(x64, y, nu)
				w[j] = w0
				if i >= head {
					return ln
				}
				return lc - lam*ln
			}
			c.compare(fmt.Sprintf("%s[%d]", p.name, j), float64(grad[j]), f, w0, scale)
		}
	}
	c.done(scale)
}

// TestDebiasIdentityForward: the nuisance head changes nothing going
// forward — a Debias model predicts exactly what the same network without
// the head predicts — and with λ = 0 nothing going back either: after
// training steps the shared parameters are bit for bit those of the plain
// model.
func TestDebiasIdentityForward(t *testing.T) {
	cfg := Config{Task: TaskClassify, ImageSize: 16, Filters: []int{4, 4}, Dense: []int{8, 6}, Dropout: 0.5, LearnRate: 1e-3, Batch: 4, Seed: 3}
	plain, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dcfg := cfg
	dcfg.Debias = true
	deb, err := New(dcfg)
	if err != nil {
		t.Fatal(err)
	}
	if deb.Params() != plain.Params()+cfg.Dense[1]+1 {
		t.Errorf("%d parameters, want the plain %d plus a head of %d", deb.Params(), plain.Params(), cfg.Dense[1]+1)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for step := range 3 {
		x, y := randomBatch(r, cfg, 4)
		nu := randSlice(r, 4)
		l1, err := plain.TrainStep(x, y)
		if err != nil {
			t.Fatal(err)
		}
		l2, nl, err := deb.TrainStepDebias(x, y, nu)
		if err != nil {
			t.Fatal(err)
		}
		if l1 != l2 || !(nl > 0) {
			t.Fatalf("step %d: class loss %v with the head, %v without; nuisance loss %v", step, l2, l1, nl)
		}
	}
	for i, p := range plain.params {
		q := deb.params[i].data()
		for j, v := range p.data() {
			if q[j] != v {
				t.Fatalf("%s[%d]: %v with the λ = 0 head, %v without", p.name, j, q[j], v)
			}
		}
	}
	x, _ := randomBatch(r, cfg, 5)
	a, _ := plain.Predict(x)
	b, _ := deb.Predict(x)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("image %d: P = %v with the head, %v without", i, b[i], a[i])
		}
	}
	if _, err := deb.TrainStep(x[:4*256], []float32{0, 1, 0, 1}); err == nil {
		t.Error("TrainStep accepted a model with a nuisance head (the head would not be trained)")
	}
	if _, _, err := plain.TrainStepDebias(x[:256], []float32{0}, []float32{0}); err == nil {
		t.Error("TrainStepDebias accepted a model without a head")
	}
	if _, err := New(Config{Task: TaskClassify, ImageSize: 8, Filters: []int{2}, LearnRate: 1e-3, Batch: 1, DebiasLambda: 1}); err == nil {
		t.Error("λ without the head accepted")
	}
	if _, err := New(Config{Task: TaskClassify, ImageSize: 8, Filters: []int{2}, LearnRate: 1e-3, Batch: 1, Debias: true, DebiasLambda: math.NaN()}); err == nil {
		t.Error("λ = NaN accepted")
	}
}
