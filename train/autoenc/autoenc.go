// Package autoenc is a small convolutional autoencoder of column-density
// images: it learns to reproduce the training set's images through a
// bottleneck, so that its reconstruction error measures how unlike the
// training set an image is (anomaly detection).
//
// The network, for S × S images (S a multiple of 4) and C channels:
//
//	encoder  conv 3×3, 1 → C, ReLU, 2×2 average pool        S   → S/2
//	         conv 3×3, C → C, ReLU, 2×2 average pool        S/2 → S/4  (the bottleneck: C·S²/16 values)
//	decoder  nearest-neighbour upsampling ×2, conv 3×3, C → C, ReLU   S/4 → S/2
//	         nearest-neighbour upsampling ×2, conv 3×3, C → 1 (linear) S/2 → S
//
// Convolutions pad with zeros ("same"). The loss is the mean squared error
// per pixel; Adam updates the weights. Forward and backward passes are
// written out here (the gradient is checked against finite differences in
// the tests). A batch's images run in parallel, each into its own gradient
// buffer, summed in image order: the result does not depend on the number
// of threads.
package autoenc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Config is the architecture and training settings.
type Config struct {
	Size      int     `json:"size"`       // image side S in pixels, a multiple of 4
	Channels  int     `json:"channels"`   // C, the channels of the hidden layers
	LearnRate float64 `json:"learn_rate"` // Adam step size
	Seed      uint64  `json:"seed"`       // initial weights
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Size < 4 || c.Size%4 != 0 || c.Size > 512:
		return fmt.Errorf("autoencoder image size %d: want a multiple of 4 in [4, 512]", c.Size)
	case c.Channels < 1 || c.Channels > 64:
		return fmt.Errorf("autoencoder channels %d: want 1 to 64", c.Channels)
	case !(c.LearnRate > 0) || c.LearnRate > 1:
		return fmt.Errorf("autoencoder learning rate %g: want (0, 1]", c.LearnRate)
	}
	return nil
}

// layer is one 3×3 convolution: cin → cout channels on h × h pixels.
type layer struct {
	cin, cout, h int
}

func (c Config) layers() [4]layer {
	s, k := c.Size, c.Channels
	return [4]layer{{1, k, s}, {k, k, s / 2}, {k, k, s / 2}, {k, 1, s}}
}

// Model is an autoencoder. It is not safe for concurrent training.
type Model struct {
	cfg Config
	w   [4][]float32 // kernels (cout, cin, 3, 3)
	b   [4][]float32 // biases (cout)
	// Adam state: first and second moments per parameter, and steps taken.
	m, v []float64
	step int
}

// New returns a model with He-uniform kernels drawn from cfg.Seed and zero
// biases.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6175746f656e63))
	for i, l := range cfg.layers() {
		m.w[i] = make([]float32, l.cout*l.cin*9)
		m.b[i] = make([]float32, l.cout)
		lim := math.Sqrt(6 / float64(l.cin*9))
		for j := range m.w[i] {
			m.w[i][j] = float32((2*r.Float64() - 1) * lim)
		}
	}
	n := m.Params()
	m.m, m.v = make([]float64, n), make([]float64, n)
	return m, nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Params returns the number of weights and biases.
func (m *Model) Params() int {
	n := 0
	for i := range m.w {
		n += len(m.w[i]) + len(m.b[i])
	}
	return n
}

// conv adds the 3×3 "same" convolution of in (cin, h, h) with w, plus b,
// to out (cout, h, h), which it first sets to the bias.
func conv(l layer, in, w, b, out []float32) {
	h := l.h
	hw := h * h
	for co := range l.cout {
		o := out[co*hw : (co+1)*hw]
		for i := range o {
			o[i] = b[co]
		}
		for ci := range l.cin {
			src := in[ci*hw : (ci+1)*hw]
			k := w[(co*l.cin+ci)*9:][:9]
			for ky := range 3 {
				for kx := range 3 {
					wv := k[ky*3+kx]
					dy, dx := ky-1, kx-1
					x0, x1 := max(0, -dx), min(h, h-dx)
					for y := max(0, -dy); y < min(h, h-dy); y++ {
						orow := o[y*h+x0 : y*h+x1]
						irow := src[(y+dy)*h+x0+dx : (y+dy)*h+x1+dx]
						for i := range orow {
							orow[i] += wv * irow[i]
						}
					}
				}
			}
		}
	}
}

// convBack adds to gin (when not nil), gw and gb the gradients of the loss
// with respect to the input, kernel and bias of conv, given gout.
func convBack(l layer, in, w, gout, gin, gw, gb []float32) {
	h := l.h
	hw := h * h
	for co := range l.cout {
		g := gout[co*hw : (co+1)*hw]
		var s float32
		for _, v := range g {
			s += v
		}
		gb[co] += s
		for ci := range l.cin {
			src := in[ci*hw : (ci+1)*hw]
			k := w[(co*l.cin+ci)*9:][:9]
			gk := gw[(co*l.cin+ci)*9:][:9]
			for ky := range 3 {
				for kx := range 3 {
					dy, dx := ky-1, kx-1
					x0, x1 := max(0, -dx), min(h, h-dx)
					var acc float32
					wv := k[ky*3+kx]
					for y := max(0, -dy); y < min(h, h-dy); y++ {
						grow := g[y*h+x0 : y*h+x1]
						irow := src[(y+dy)*h+x0+dx : (y+dy)*h+x1+dx]
						for i, gv := range grow {
							acc += gv * irow[i]
						}
						if gin != nil {
							dst := gin[ci*hw+(y+dy)*h+x0+dx : ci*hw+(y+dy)*h+x1+dx]
							for i, gv := range grow {
								dst[i] += wv * gv
							}
						}
					}
					gk[ky*3+kx] += acc
				}
			}
		}
	}
}

// pool averages 2×2 blocks of c channels of h × h pixels into out.
func pool(c, h int, in, out []float32) {
	ho := h / 2
	for ch := range c {
		for y := range ho {
			for x := range ho {
				p := ch*h*h + 2*y*h + 2*x
				out[ch*ho*ho+y*ho+x] = 0.25 * (in[p] + in[p+1] + in[p+h] + in[p+h+1])
			}
		}
	}
}

// poolBack spreads gout (c, h/2, h/2) over gin (c, h, h).
func poolBack(c, h int, gout, gin []float32) {
	ho := h / 2
	for ch := range c {
		for y := range ho {
			for x := range ho {
				g := 0.25 * gout[ch*ho*ho+y*ho+x]
				p := ch*h*h + 2*y*h + 2*x
				gin[p], gin[p+1], gin[p+h], gin[p+h+1] = g, g, g, g
			}
		}
	}
}

// up repeats each pixel of c channels of h × h pixels into a 2×2 block.
func up(c, h int, in, out []float32) {
	h2 := 2 * h
	for ch := range c {
		for y := range h2 {
			for x := range h2 {
				out[ch*h2*h2+y*h2+x] = in[ch*h*h+(y/2)*h+x/2]
			}
		}
	}
}

// upBack sums gout (c, 2h, 2h) over each 2×2 block into gin (c, h, h).
func upBack(c, h int, gout, gin []float32) {
	h2 := 2 * h
	for ch := range c {
		for y := range h {
			for x := range h {
				p := ch*h2*h2 + 2*y*h2 + 2*x
				gin[ch*h*h+y*h+x] = gout[p] + gout[p+1] + gout[p+h2] + gout[p+h2+1]
			}
		}
	}
}

func relu(x []float32) {
	for i, v := range x {
		if v < 0 {
			x[i] = 0
		}
	}
}

// reluBack zeroes g where the ReLU's output y was 0.
func reluBack(y, g []float32) {
	for i, v := range y {
		if v <= 0 {
			g[i] = 0
		}
	}
}

// pass holds the activations of one image.
type pass struct {
	a0, p0, a1, p1, u1, a2, u2, out []float32
}

func (m *Model) newPass() *pass {
	s, k := m.cfg.Size, m.cfg.Channels
	h := s / 2
	q := s / 4
	return &pass{
		a0: make([]float32, k*s*s), p0: make([]float32, k*h*h),
		a1: make([]float32, k*h*h), p1: make([]float32, k*q*q),
		u1: make([]float32, k*h*h), a2: make([]float32, k*h*h),
		u2: make([]float32, k*s*s), out: make([]float32, s*s),
	}
}

func (m *Model) forward(x []float32, p *pass) {
	s, k := m.cfg.Size, m.cfg.Channels
	L := m.cfg.layers()
	conv(L[0], x, m.w[0], m.b[0], p.a0)
	relu(p.a0)
	pool(k, s, p.a0, p.p0)
	conv(L[1], p.p0, m.w[1], m.b[1], p.a1)
	relu(p.a1)
	pool(k, s/2, p.a1, p.p1)
	up(k, s/4, p.p1, p.u1)
	conv(L[2], p.u1, m.w[2], m.b[2], p.a2)
	relu(p.a2)
	up(k, s/2, p.a2, p.u2)
	conv(L[3], p.u2, m.w[3], m.b[3], p.out)
}

// grads is one image's gradient, laid out as the parameters.
type grads struct {
	w, b [4][]float32
	// scratch
	g0, gp0, g1, gp1, gu1, g2, gu2 []float32
}

func (m *Model) newGrads() *grads {
	s, k := m.cfg.Size, m.cfg.Channels
	h, q := s/2, s/4
	g := &grads{
		g0: make([]float32, k*s*s), gp0: make([]float32, k*h*h), g1: make([]float32, k*h*h),
		gp1: make([]float32, k*q*q), gu1: make([]float32, k*h*h), g2: make([]float32, k*h*h), gu2: make([]float32, k*s*s),
	}
	for i := range m.w {
		g.w[i] = make([]float32, len(m.w[i]))
		g.b[i] = make([]float32, len(m.b[i]))
	}
	return g
}

// backward sets g to the gradient of scale · Σ (out − x)² for the pass p.
func (m *Model) backward(x []float32, p *pass, g *grads, scale float32) {
	s, k := m.cfg.Size, m.cfg.Channels
	L := m.cfg.layers()
	for i := range g.w {
		clear(g.w[i])
		clear(g.b[i])
	}
	gout := make([]float32, s*s)
	for i, o := range p.out {
		gout[i] = 2 * scale * (o - x[i])
	}
	clear(g.gu2)
	convBack(L[3], p.u2, m.w[3], gout, g.gu2, g.w[3], g.b[3])
	upBack(k, s/2, g.gu2, g.g2)
	reluBack(p.a2, g.g2)
	clear(g.gu1)
	convBack(L[2], p.u1, m.w[2], g.g2, g.gu1, g.w[2], g.b[2])
	upBack(k, s/4, g.gu1, g.gp1)
	poolBack(k, s/2, g.gp1, g.g1)
	reluBack(p.a1, g.g1)
	clear(g.gp0)
	convBack(L[1], p.p0, m.w[1], g.g1, g.gp0, g.w[1], g.b[1])
	poolBack(k, s, g.gp0, g.g0)
	reluBack(p.a0, g.g0)
	convBack(L[0], x, m.w[0], g.g0, nil, g.w[0], g.b[0])
}

func (m *Model) checkImage(x []float32) error {
	if len(x) != m.cfg.Size*m.cfg.Size {
		return fmt.Errorf("autoencoder: an image of %d values, want %d²", len(x), m.cfg.Size)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("autoencoder: pixel %d is %v", i, v)
		}
	}
	return nil
}

// Reconstruct returns the model's reconstruction of the image x (S² values).
func (m *Model) Reconstruct(x []float32) ([]float32, error) {
	if err := m.checkImage(x); err != nil {
		return nil, err
	}
	p := m.newPass()
	m.forward(x, p)
	return p.out, nil
}

// Errors returns the reconstruction error of each image of x (any number
// of S² images, concatenated): the mean squared difference per pixel.
func (m *Model) Errors(x []float32) ([]float64, error) {
	s2 := m.cfg.Size * m.cfg.Size
	if len(x)%s2 != 0 {
		return nil, fmt.Errorf("autoencoder: %d values are not whole %d² images", len(x), m.cfg.Size)
	}
	out := make([]float64, len(x)/s2)
	err := m.parallel(len(out), func(i int, p *pass, _ *grads) error {
		im := x[i*s2 : (i+1)*s2]
		if err := m.checkImage(im); err != nil {
			return fmt.Errorf("image %d: %w", i, err)
		}
		m.forward(im, p)
		out[i] = mse(p.out, im)
		return nil
	}, false)
	return out, err
}

func mse(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s / float64(len(a))
}

// parallel runs f for images 0..n-1 on up to GOMAXPROCS goroutines, each
// with its own pass (and gradient buffer when withGrads).
func (m *Model) parallel(n int, f func(i int, p *pass, g *grads) error, withGrads bool) error {
	workers := max(1, min(runtime.GOMAXPROCS(0), n))
	errs := make([]error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := m.newPass()
			var g *grads
			if withGrads {
				g = m.newGrads()
			}
			for i := range next {
				errs[i] = f(i, p, g)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// TrainStep takes one Adam step on the batch x (whole S² images,
// concatenated) and returns the batch's mean loss before the step.
func (m *Model) TrainStep(x []float32) (float64, error) {
	s2 := m.cfg.Size * m.cfg.Size
	n := len(x) / s2
	if n == 0 || len(x)%s2 != 0 {
		return 0, fmt.Errorf("autoencoder: a batch of %d values is not whole %d² images", len(x), m.cfg.Size)
	}
	// Per-image gradients, summed in image order (deterministic).
	per := make([][]float32, n)
	losses := make([]float64, n)
	scale := float32(1 / float64(n*s2))
	err := m.parallel(n, func(i int, p *pass, g *grads) error {
		im := x[i*s2 : (i+1)*s2]
		if err := m.checkImage(im); err != nil {
			return fmt.Errorf("image %d: %w", i, err)
		}
		m.forward(im, p)
		losses[i] = mse(p.out, im)
		m.backward(im, p, g, scale)
		flat := make([]float32, 0, m.Params())
		for l := range g.w {
			flat = append(flat, g.w[l]...)
			flat = append(flat, g.b[l]...)
		}
		per[i] = flat
		return nil
	}, true)
	if err != nil {
		return 0, err
	}
	sum := make([]float64, m.Params())
	var loss float64
	for i := range per {
		for j, v := range per[i] {
			sum[j] += float64(v)
		}
		loss += losses[i]
	}
	m.adam(sum)
	return loss / float64(n), nil
}

// adam applies one Adam update (β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸) with the
// gradient g, laid out as the parameters.
func (m *Model) adam(g []float64) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	m.step++
	c1 := 1 - math.Pow(b1, float64(m.step))
	c2 := 1 - math.Pow(b2, float64(m.step))
	j := 0
	upd := func(p []float32) {
		for i := range p {
			m.m[j] = b1*m.m[j] + (1-b1)*g[j]
			m.v[j] = b2*m.v[j] + (1-b2)*g[j]*g[j]
			p[i] -= float32(m.cfg.LearnRate * (m.m[j] / c1) / (math.Sqrt(m.v[j]/c2) + eps))
			j++
		}
	}
	for l := range m.w {
		upd(m.w[l])
		upd(m.b[l])
	}
}

// file is the saved form of a model (JSON).
type file struct {
	Format  string       `json:"format"`
	Config  Config       `json:"config"`
	Steps   int          `json:"steps"`
	Kernels [4][]float32 `json:"kernels"`
	Biases  [4][]float32 `json:"biases"`
}

const format = "turbindex autoencoder v1"

// Save writes the model's weights (not the optimiser's state) as JSON.
func (m *Model) Save(w io.Writer) error {
	return json.NewEncoder(w).Encode(file{Format: format, Config: m.cfg, Steps: m.step, Kernels: m.w, Biases: m.b})
}

// Load reads a model written by Save, checking every shape and value.
func Load(r io.Reader) (*Model, error) {
	var f file
	dec := json.NewDecoder(io.LimitReader(r, 1<<30))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("autoencoder: %w", err)
	}
	if f.Format != format {
		return nil, fmt.Errorf("autoencoder: format %q, want %q", f.Format, format)
	}
	m, err := New(f.Config)
	if err != nil {
		return nil, err
	}
	for l := range m.w {
		if len(f.Kernels[l]) != len(m.w[l]) || len(f.Biases[l]) != len(m.b[l]) {
			return nil, fmt.Errorf("autoencoder: layer %d has %d weights and %d biases, want %d and %d", l+1, len(f.Kernels[l]), len(f.Biases[l]), len(m.w[l]), len(m.b[l]))
		}
		for _, p := range [][]float32{f.Kernels[l], f.Biases[l]} {
			for _, v := range p {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, fmt.Errorf("autoencoder: layer %d holds %v", l+1, v)
				}
			}
		}
	}
	m.w, m.b, m.step = f.Kernels, f.Biases, f.Steps
	return m, nil
}
