// Package hydro is the finite-volume solver for the isothermal Euler
// equations on one rank's block:
//
//	∂ρ/∂t + ∇·(ρv) = 0,   ∂(ρv)/∂t + ∇·(ρvv + ρc²I) = 0,
//
// in code units where the sound speed c = 1. It is split the way the physics
// is: boundary exchange (boundary.go), piecewise-linear reconstruction
// (reconstruct.go), the local Lax–Friedrichs Riemann solver (riemann.go) and
// the van Leer predictor–corrector time integrator (integrator.go).
package hydro

import "github.com/turbindex/turbindex/sim/mesh"

// Fields is a set of four padded arrays over a block: either the conserved
// variables (ρ, ρvx, ρvy, ρvz) or the primitive ones (ρ, vx, vy, vz), code
// units, C order [z][y][x] including ghost layers.
type Fields struct {
	Rho []float64
	M   [3][]float64 // momentum density, or velocity for primitive fields
}

// NewFields allocates zeroed fields for block b.
func NewFields(b mesh.Block) *Fields {
	n := b.Len()
	f := &Fields{Rho: make([]float64, n)}
	for d := range f.M {
		f.M[d] = make([]float64, n)
	}
	return f
}

// all returns the four arrays in their fixed order.
func (f *Fields) all() [4][]float64 {
	return [4][]float64{f.Rho, f.M[0], f.M[1], f.M[2]}
}

// CopyFrom copies every array of g into f.
func (f *Fields) CopyFrom(g *Fields) {
	a, b := f.all(), g.all()
	for q := range a {
		copy(a[q], b[q])
	}
}
