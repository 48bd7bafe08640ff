package cnn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// rmsprop is Keras' RMSprop as a gorgonia Solver:
//
//	v ← ρ·v + (1−ρ)·g²
//	w ← w − lr·g / (√v + ε)
//
// in float32, with ρ = 0.9 and ε = 1e-7. gorgonia's RMSPropSolver differs
// (ε inside the square root, ρ = 0.999 by default) and keeps its state
// private, so checkpoints could not resume it; this one's state is v.
type rmsprop struct {
	lr, rho, eps float32
	v            [][]float32
	frozen       []bool // parameters left unchanged (Config.Freeze)
}

var _ G.Solver = (*rmsprop)(nil)

func newRMSprop(lr float64, sizes []int) *rmsprop {
	s := &rmsprop{lr: float32(lr), rho: rmsRho, eps: rmsEps}
	for _, n := range sizes {
		s.v = append(s.v, make([]float32, n))
	}
	return s
}

// Step updates every parameter in place from its gradient. The update is
// element by element, so it is the same however it is split over cores.
func (s *rmsprop) Step(model []G.ValueGrad) error {
	if len(model) != len(s.v) {
		return fmt.Errorf("cnn: rmsprop: %d parameters, state for %d", len(model), len(s.v))
	}
	for i, vg := range model {
		if i < len(s.frozen) && s.frozen[i] {
			continue
		}
		g, err := vg.Grad()
		if err != nil {
			return err
		}
		w, gd, v := f32s(vg.Value()), f32s(g), s.v[i]
		if len(w) != len(v) || len(gd) != len(v) {
			return fmt.Errorf("cnn: rmsprop: parameter %d has %d values and %d gradients, state %d", i, len(w), len(gd), len(v))
		}
		s.update(w, gd, v)
	}
	return nil
}

func (s *rmsprop) update(w, g, v []float32) {
	lr, rho, eps := s.lr, s.rho, s.eps
	g, v = g[:len(w)], v[:len(w)]
	for j, gj := range g {
		vj := rho*v[j] + (1-rho)*gj*gj
		v[j] = vj
		w[j] -= lr * gj / (float32(math.Sqrt(float64(vj))) + eps)
	}
}

// paramGrad pairs a parameter's value with its gradient for the solver.
type paramGrad struct {
	value, grad G.Value
}

func (p paramGrad) Value() G.Value         { return p.value }
func (p paramGrad) Grad() (G.Value, error) { return p.grad, nil }
