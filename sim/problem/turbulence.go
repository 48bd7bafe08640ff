package problem

import (
	"fmt"

	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/hydro"
	"github.com/turbindex/turbindex/sim/mesh"
	"github.com/turbindex/turbindex/sim/turbulence"
)

// Turbulence is uniform gas stirred by a Gaussian random, divergence-free
// velocity field with power spectrum P(k) ∝ k^−n and rms Mach number Mach.
//
// The field is generated in y-slabs over all ranks (turbulence.VelocitySlab)
// and then handed to the owners of the solver's blocks, so no rank holds
// the whole cube and the field is the same for every rank count.
type Turbulence struct {
	Spectrum turbulence.Spectrum
	Mach     float64 // 3-D rms speed in units of the sound speed
}

// Init implements Generator.
func (t Turbulence) Init(c comm.Comm, dec mesh.Decomposition, u *hydro.Fields) error {
	n := dec.Cells[0]
	if dec.Cells[1] != n || dec.Cells[2] != n {
		return fmt.Errorf("turbulence needs a cubic grid, got %v", dec.Cells)
	}
	slab, err := turbulence.VelocitySlab(c, n, t.Spectrum, t.Mach)
	if err != nil {
		return fmt.Errorf("turbulent velocity field: %w", err)
	}
	return slabsToBlocks(c, dec, slab, u)
}

// Boundaries implements Generator.
func (Turbulence) Boundaries() [3]hydro.BoundaryKind { return periodic() }

// slabsToBlocks moves the velocity from y-slabs to the solver's blocks with
// one all-to-all: each rank sends every block owner the part of its slab
// that falls in that block, each component in turn, ordered z, y, x. The
// density is uniform, so the momentum equals the velocity.
func slabsToBlocks(c comm.Comm, dec mesh.Decomposition, slab *turbulence.Slab, u *hydro.Fields) error {
	size, n, self := c.Size(), slab.N, c.Rank()
	mine := dec.Block(self)
	// overlap returns the rows [y0, y1) of block b that lie in the slab of
	// rank q (ok false if none).
	overlap := func(b mesh.Block, q int) (y0, y1 int, ok bool) {
		qy0, qy1 := turbulence.SlabRange(n, size, q)
		y0, y1 = max(qy0, b.Start[1]), min(qy1, b.Start[1]+b.Size[1])
		return y0, y1, y0 < y1
	}
	// The part of my own slab in my own block is copied directly, below;
	// the rest travels. Buffers are sized exactly before they are filled.
	sendCounts, recvCounts := make([]int, size), make([]int, size)
	total, recvTotal := 0, 0
	for q := range size {
		if q == self {
			continue
		}
		if y0, y1, ok := overlap(dec.Block(q), self); ok {
			b := dec.Block(q)
			sendCounts[q] = 3 * b.Size[2] * (y1 - y0) * b.Size[0]
			total += sendCounts[q]
		}
		if y0, y1, ok := overlap(mine, q); ok {
			recvCounts[q] = 3 * mine.Size[2] * (y1 - y0) * mine.Size[0]
			recvTotal += recvCounts[q]
		}
	}
	send := make([]float64, 0, total)
	for q := range size {
		if sendCounts[q] == 0 {
			continue
		}
		b := dec.Block(q)
		y0, y1, _ := overlap(b, self)
		for _, v := range slab.V {
			for z := b.Start[2]; z < b.Start[2]+b.Size[2]; z++ {
				for y := y0; y < y1; y++ {
					at := slab.At(b.Start[0], y, z)
					send = append(send, v[at:at+b.Size[0]]...)
				}
			}
		}
	}
	recv := make([]float64, recvTotal)
	if err := c.Alltoallv(send, sendCounts, recv, recvCounts); err != nil {
		return fmt.Errorf("turbulence: slabs to blocks: %w", err)
	}
	off := 0
	for q := range size {
		y0, y1, ok := overlap(mine, q)
		if !ok {
			continue
		}
		for d := range 3 {
			for k := range mine.Size[2] {
				for y := y0; y < y1; y++ {
					at := mine.Index(0, y-mine.Start[1], k)
					row := u.M[d][at : at+mine.Size[0]]
					if q == self {
						from := slab.At(mine.Start[0], y, mine.Start[2]+k)
						copy(row, slab.V[d][from:from+mine.Size[0]])
						continue
					}
					off += copy(row, recv[off:off+mine.Size[0]])
				}
			}
		}
	}
	forCells(mine, func(_ [3]int, i int) { u.Rho[i] = 1 })
	return nil
}
