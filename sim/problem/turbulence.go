package problem

import (
	"fmt"
	"sync"

	"github.com/turbindex/turbindex/sim/hydro"
	"github.com/turbindex/turbindex/sim/mesh"
	"github.com/turbindex/turbindex/sim/turbulence"
)

// Turbulence is uniform gas stirred by a Gaussian random, divergence-free
// velocity field with power spectrum P(k) ∝ k^−n and rms Mach number Mach.
//
// The field is generated once for the whole grid and shared by the
// in-process ranks, so every rank count sees the same velocities.
type Turbulence struct {
	Spectrum turbulence.Spectrum
	Mach     float64 // 3-D rms speed in units of the sound speed

	once       sync.Once
	vx, vy, vz []float64
	n          int
	err        error
}

// Init implements Generator.
func (t *Turbulence) Init(b mesh.Block, u *hydro.Fields) error {
	n := b.Global[0]
	if b.Global[1] != n || b.Global[2] != n {
		return fmt.Errorf("turbulence needs a cubic grid, got %v", b.Global)
	}
	t.once.Do(func() {
		t.n = n
		t.vx, t.vy, t.vz, t.err = turbulence.Velocity(n, t.Spectrum, t.Mach)
	})
	if t.err != nil {
		return fmt.Errorf("turbulent velocity field: %w", t.err)
	}
	if t.n != n {
		return fmt.Errorf("turbulence generated for %d³, block belongs to %d³", t.n, n)
	}
	forCells(b, func(g [3]int, c int) {
		at := (g[2]*n+g[1])*n + g[0]
		u.Rho[c] = 1
		u.M[0][c], u.M[1][c], u.M[2][c] = t.vx[at], t.vy[at], t.vz[at]
	})
	return nil
}

// Boundaries implements Generator.
func (*Turbulence) Boundaries() [3]hydro.BoundaryKind { return periodic() }
