// Package problem holds the problem generators: each sets the initial
// conserved state (code units: box edge, mean density and sound speed are 1)
// of one rank's block.
package problem

import (
	"math"

	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/hydro"
	"github.com/turbindex/turbindex/sim/mesh"
)

// Generator sets the initial conditions of the interior cells of a block.
type Generator interface {
	// Init writes ρ and ρv into the interior cells of u, the fields of
	// rank c's block of dec. Every rank of c must call it.
	Init(c comm.Comm, dec mesh.Decomposition, u *hydro.Fields) error
	// Boundaries returns the boundary condition along x, y, z.
	Boundaries() [3]hydro.BoundaryKind
}

// forCells calls fn for every interior cell of b with its global indices and
// its padded-array index.
func forCells(b mesh.Block, fn func(g [3]int, c int)) {
	for k := range b.Size[2] {
		for j := range b.Size[1] {
			c := b.Index(0, j, k)
			for i := range b.Size[0] {
				fn([3]int{b.Start[0] + i, b.Start[1] + j, b.Start[2] + k}, c+i)
			}
		}
	}
}

func periodic() [3]hydro.BoundaryKind {
	return [3]hydro.BoundaryKind{hydro.Periodic, hydro.Periodic, hydro.Periodic}
}

// Uniform is gas at rest with the mean density everywhere.
type Uniform struct{}

// Init implements Generator.
func (Uniform) Init(c comm.Comm, dec mesh.Decomposition, u *hydro.Fields) error {
	forCells(dec.Block(c.Rank()), func(_ [3]int, c int) {
		u.Rho[c] = 1
		u.M[0][c], u.M[1][c], u.M[2][c] = 0, 0, 0
	})
	return nil
}

// Boundaries implements Generator.
func (Uniform) Boundaries() [3]hydro.BoundaryKind { return periodic() }

// SoundWave is a linear isothermal sound wave of one wavelength across the
// periodic box: δρ/ρ0 = Amp cos(k·x), δv = ±c δρ/ρ0 along k.
type SoundWave struct {
	Amp      float64 // relative density amplitude
	Diagonal bool    // k along (1,1,1) instead of x
	Left     bool    // travel towards −k instead of +k
}

// Init implements Generator. The phase of each cell is reduced to an
// integer fraction of the period and folded symmetrically, so the profile is
// exactly mirror-symmetric and left- and right-going waves are exact mirror
// images of each other.
func (s SoundWave) Init(c comm.Comm, dec mesh.Decomposition, u *hydro.Fields) error {
	b := dec.Block(c.Rank())
	n := b.Global[0]
	dir := [3]float64{1, 0, 0}
	if s.Diagonal {
		h := 1 / math.Sqrt(3)
		dir = [3]float64{h, h, h}
	}
	sign := 1.0
	if s.Left {
		sign = -1
	}
	forCells(b, func(g [3]int, i int) {
		// k·x = 2π (i + ½)/N along x, or 2π (i + j + k + 3/2)/N along the
		// diagonal: in half-cell units the phase is p·π/N with p odd.
		p := 2*g[0] + 1
		if s.Diagonal {
			p = 2*(g[0]+g[1]+g[2]) + 3
		}
		p %= 2 * n
		p = min(p, 2*n-p)
		d := s.Amp * math.Cos(math.Pi*float64(p)/float64(n))
		rho := 1 + d
		u.Rho[i] = rho
		for a := range 3 {
			u.M[a][i] = rho * (sign * d * dir[a])
		}
	})
	return nil
}

// Boundaries implements Generator.
func (SoundWave) Boundaries() [3]hydro.BoundaryKind { return periodic() }

// ShockTube is the isothermal Riemann problem along one axis: the left state
// below the middle of the box, the right state above it, outflow ends.
type ShockTube struct {
	Axis       int     // 0, 1, 2 for x, y, z
	RhoL, RhoR float64 // densities, units of ρ0
	VelL, VelR float64 // velocities along Axis, units of c
}

// Init implements Generator.
func (s ShockTube) Init(c comm.Comm, dec mesh.Decomposition, u *hydro.Fields) error {
	b := dec.Block(c.Rank())
	mid := b.Global[s.Axis] / 2
	forCells(b, func(g [3]int, i int) {
		rho, v := s.RhoR, s.VelR
		if g[s.Axis] < mid {
			rho, v = s.RhoL, s.VelL
		}
		u.Rho[i] = rho
		u.M[0][i], u.M[1][i], u.M[2][i] = 0, 0, 0
		u.M[s.Axis][i] = rho * v
	})
	return nil
}

// Boundaries implements Generator.
func (s ShockTube) Boundaries() [3]hydro.BoundaryKind {
	bc := periodic()
	bc[s.Axis] = hydro.Outflow
	return bc
}
