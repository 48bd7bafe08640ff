package cnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refNet is a float64 reference implementation of a model's forward pass
// (direct convolutions, plain loops), used to check the float32 model's
// outputs and, through finite differences, its analytic gradients.
type refNet struct {
	cfg    Config
	geoms  []convGeom
	params [][]float64
	masks  [][]float64 // per hidden dense layer, n × width; nil: no dropout
}

func newRefNet(m *Model) *refNet {
	r := &refNet{cfg: m.cfg, geoms: m.geoms}
	for _, p := range m.params {
		r.params = append(r.params, to64(p.data()))
	}
	return r
}

// outputs returns z for the n images of x.
func (r *refNet) outputs(x []float64, n int) []float64 {
	h := x
	for l, g := range r.geoms {
		_, h = naiveBlock(g, n, h, r.params[2*l], r.params[2*l+1])
	}
	pi := 2 * len(r.geoms)
	for li, d := range r.cfg.denseShapes() {
		w, b := r.params[pi], r.params[pi+1]
		out := make([]float64, n*d[1])
		for i := 0; i < n; i++ {
			for u := 0; u < d[1]; u++ {
				s := b[u]
				for f := 0; f < d[0]; f++ {
					s += h[i*d[0]+f] * w[f*d[1]+u]
				}
				if li < len(r.cfg.Dense) {
					s = math.Max(s, 0)
					if r.masks != nil {
						s *= r.masks[li][i*d[1]+u]
					}
				}
				out[i*d[1]+u] = s
			}
		}
		h = out
		pi += 2
	}
	return h
}

func (r *refNet) loss(x []float64, y []float32) float64 {
	z := r.outputs(x, len(y))
	s := 0.0
	for i, zi := range z {
		t := float64(y[i])
		if r.cfg.Task == TaskClassify {
			s += math.Max(zi, 0) - zi*t + math.Log1p(math.Exp(-math.Abs(zi)))
		} else {
			s += (zi - t) * (zi - t)
		}
	}
	return s / float64(len(y))
}

// fdCheck compares analytic derivatives of the float32 model with central
// finite differences of the float64 reference network. The differences use
// h = 1e-5 (relative), so their error is ~1e-9 of the derivative scale
// (rounding ~1e-16/h, truncation ~h²); a step that crosses a ReLU or
// max-pool kink shows up as h and h/2 disagreeing, and is skipped and
// counted (rare at this h). What remains is the float32 model's own
// rounding: sums of up to a few hundred float32 products, relative error
// ~1e-7 to 1e-6. The tolerance, |analytic − fd| ≤ 1e-4·|fd| + 1e-6·scale
// (scale: the largest derivative of the set), leaves 10–100× room for that
// (the worst error seen is a few per cent of it) and is 100× smaller than
// any error a wrong layer gradient makes.
type fdCheck struct {
	t               *testing.T
	name            string
	checked, kinked int
	worst           float64 // largest |analytic − fd| / tolerance
}

func (c *fdCheck) compare(label string, analytic float64, f func(delta float64) float64, base, scale float64) {
	h := 1e-5 * math.Max(math.Abs(base), 0.1)
	fd := func(h float64) float64 { return (f(h) - f(-h)) / (2 * h) }
	d1, d2 := fd(h), fd(h/2)
	if math.Abs(d1-d2) > 1e-6*math.Max(math.Abs(d1), scale) {
		c.kinked++
		return
	}
	c.checked++
	tol := 1e-4*math.Abs(d2) + 1e-6*scale
	c.worst = math.Max(c.worst, math.Abs(analytic-d2)/tol)
	if math.Abs(analytic-d2) > tol {
		c.t.Errorf("%s: %s: analytic %.7g, finite difference %.7g", c.name, label, analytic, d2)
	}
}

func (c *fdCheck) done(scale float64) {
	if scale == 0 {
		c.t.Errorf("%s: every derivative is zero (dead network): the check proves nothing", c.name)
	}
	c.t.Logf("%s: %d derivatives agree (worst error %.3f of the tolerance), %d skipped at kinks", c.name, c.checked, c.worst, c.kinked)
	if c.kinked*20 > c.checked+c.kinked {
		c.t.Errorf("%s: %d of %d derivatives sit at kinks", c.name, c.kinked, c.checked+c.kinked)
	}
}

func randomBatch(r *rand.Rand, cfg Config, n int) (x, y []float32) {
	x = randSlice(r, n*cfg.ImageSize*cfg.ImageSize)
	y = make([]float32, n)
	for i := range y {
		if cfg.Task == TaskClassify {
			y[i] = float32(r.IntN(2))
		} else {
			y[i] = float32(3 + 1.5*r.Float64())
		}
	}
	return x, y
}

// TestGradientCheck checks, on tiny networks (both tasks, even and odd
// image sizes so that pooling floors, dropout masks in place), that the
// model's outputs match the float64 reference and that ∂loss/∂θ of every
// parameter and ∂z/∂x of every pixel (the saliency) match its finite
// differences, for every matrix-product implementation of the build.
func TestGradientCheck(t *testing.T) {
	cases := []Config{
		{Task: TaskClassify, ImageSize: 8, Filters: []int{2, 2}, Dense: []int{4}, Dropout: 0.5, LearnRate: 1e-3, Batch: 3, Seed: 17},
		{Task: TaskRegress, ImageSize: 10, Filters: []int{3, 2}, Dense: []int{5, 3}, Dropout: 0.25, LearnRate: 1e-3, Batch: 2, Seed: 8},
		{Task: TaskClassify, ImageSize: 9, Filters: []int{2}, Dense: nil, Dropout: 0, LearnRate: 1e-3, Batch: 2, Seed: 9},
		{Task: TaskClassify, ImageSize: 12, Filters: []int{4, 3, 2}, Dense: []int{6, 4}, Dropout: 0.5, LearnRate: 1e-3, Batch: 5, Seed: 10},
	}
	for _, kind := range gemmKinds() {
		for ci, cfg := range cases {
			t.Run(fmt.Sprintf("%v/%d", kind, ci), func(t *testing.T) {
				withGemm(kind, func() { gradCheck(t, cfg) })
			})
		}
	}
}

func gradCheck(t *testing.T, cfg Config) {
	r := rand.New(rand.NewPCG(cfg.Seed, 99))
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Non-zero biases, so that their gradients are checked at a generic point.
	for _, p := range m.params {
		if p.isBias {
			for i := range p.data() {
				p.data()[i] = float32(0.1 * r.NormFloat64())
			}
		}
	}
	n := cfg.Batch
	x, y := randomBatch(r, cfg, n)
	gr, err := m.graphFor(kindTrain, n)
	if err != nil {
		t.Fatal(err)
	}
	copy(gr.y.Data().([]float32), y)
	ref := newRefNet(m)
	for i, mask := range gr.masks {
		dropoutMask(mask.Data().([]float32), cfg.Dropout, cfg.Seed, 3, i)
		ref.masks = append(ref.masks, to64(mask.Data().([]float32)))
	}
	if err := gr.run(x); err != nil {
		t.Fatal(err)
	}
	x64 := to64(x)
	if want := ref.loss(x64, y); math.Abs(gr.loss.last-want) > 1e-5*(1+want) {
		t.Fatalf("loss %.8g, reference %.8g", gr.loss.last, want)
	}
	scale := 0.0
	for i, p := range m.params {
		pscale := 0.0
		for _, g := range f32s(gr.grads[i].Value()) {
			pscale = math.Max(pscale, math.Abs(float64(g)))
		}
		if pscale == 0 {
			t.Errorf("%s: zero gradient (dead units): its check would prove nothing", p.name)
		}
		scale = math.Max(scale, pscale)
	}
	c := &fdCheck{t: t, name: "parameters"}
	for i, p := range m.params {
		grad := f32s(gr.grads[i].Value())
		w := ref.params[i]
		for j := range w {
			w0 := w[j]
			f := func(d float64) float64 {
				w[j] = w0 + d
				l := ref.loss(x64, y)
				w[j] = w0
				return l
			}
			c.compare(fmt.Sprintf("%s[%d]", p.name, j), float64(grad[j]), f, w0, scale)
		}
	}
	c.done(scale)

	// Saliency: ∂(Σ z)/∂x; each z depends on its own image only, so this is
	// every image's ∂z/∂pixel.
	ref.masks = nil
	out, err := m.outputs(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, z := range ref.outputs(x64, n) {
		if math.Abs(float64(out[i])-z) > 1e-5*(1+math.Abs(z)) {
			t.Fatalf("output %d: %.8g, reference %.8g", i, out[i], z)
		}
	}
	sg, err := m.graphFor(kindSaliency, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := sg.run(x); err != nil {
		t.Fatal(err)
	}
	dx := append([]float32(nil), f32s(sg.grads[0].Value())...)
	sal, err := m.Saliency(x)
	if err != nil {
		t.Fatal(err)
	}
	scale = 0
	for i, v := range dx {
		scale = math.Max(scale, math.Abs(float64(v)))
		if sal[i] != float32(math.Abs(float64(v))) {
			t.Fatalf("Saliency[%d] = %g, want |%g|", i, sal[i], v)
		}
	}
	c = &fdCheck{t: t, name: "saliency"}
	for j := range x64 {
		x0 := x64[j]
		f := func(d float64) float64 {
			x64[j] = x0 + d
			s := 0.0
			for _, z := range ref.outputs(x64, n) {
				s += z
			}
			x64[j] = x0
			return s
		}
		c.compare(fmt.Sprintf("x[%d]", j), float64(dx[j]), f, x0, scale)
	}
	c.done(scale)
}
