// Package mesh describes the uniform Cartesian grid of the box and its
// decomposition into rectangular blocks, one per rank.
//
// Arrays are stored in C order [z][y][x] (x fastest). Every block carries
// Ghost layers of cells on each side along every axis, filled by the boundary
// exchange, so the solver can treat interior and boundary cells alike.
package mesh

import (
	"fmt"
	"math"
)

// Ghost is the number of ghost layers on each side of a block: the width of
// the piecewise-linear reconstruction stencil.
const Ghost = 2

// Decomposition is the split of a global grid of Cells cells into
// Ranks[0]×Ranks[1]×Ranks[2] blocks along x, y and z.
type Decomposition struct {
	Cells [3]int // global cells along x, y, z
	Ranks [3]int // ranks along x, y, z
}

// Decompose chooses the block decomposition of a grid of cells among size
// ranks. It minimises the total area of the internal block faces (the ghost
// traffic) over all factorisations size = px·py·pz whose blocks are at least
// Ghost cells thick along every split axis; ties go to splitting the slowest
// axis (z) most, which keeps blocks contiguous in memory. It fails when no
// factorisation fits, naming the grid and the rank count.
func Decompose(cells [3]int, size int) (Decomposition, error) {
	if size < 1 {
		return Decomposition{}, fmt.Errorf("rank count %d: must be at least 1", size)
	}
	for d, n := range cells {
		if n < 1 {
			return Decomposition{}, fmt.Errorf("grid %v: axis %d has %d cells", cells, d, n)
		}
	}
	// More ranks than blocks of Ghost³ cells can never fit; saying so at
	// once spares a search over every factorisation of a huge count.
	most := 1.0
	for _, n := range cells {
		most *= float64(max(n/Ghost, 1))
	}
	best, bestCost := [3]int{}, math.Inf(1)
	for px := 1; px <= size && float64(size) <= most; px++ {
		if size%px != 0 {
			continue
		}
		for py := 1; py <= size/px; py++ {
			if (size/px)%py != 0 {
				continue
			}
			p := [3]int{px, py, size / px / py}
			if !fits(cells, p) {
				continue
			}
			// Internal face area: each cut along axis d adds a plane of the other two axes.
			cost := float64(p[0]-1)*float64(cells[1]*cells[2]) +
				float64(p[1]-1)*float64(cells[0]*cells[2]) +
				float64(p[2]-1)*float64(cells[0]*cells[1])
			if cost < bestCost || (cost == bestCost && prefer(p, best)) {
				best, bestCost = p, cost
			}
		}
	}
	if bestCost == math.Inf(1) {
		return Decomposition{}, fmt.Errorf("%d ranks cannot split a %d×%d×%d grid into blocks at least %d cells thick (the ghost width): use fewer ranks or a larger grid",
			size, cells[0], cells[1], cells[2], Ghost)
	}
	return Decomposition{Cells: cells, Ranks: best}, nil
}

func fits(cells, p [3]int) bool {
	for d := range 3 {
		if p[d] > 1 && cells[d]/p[d] < Ghost {
			return false
		}
	}
	return true
}

// prefer breaks ties between equally good factorisations: more ranks along z,
// then along y.
func prefer(p, q [3]int) bool {
	if p[2] != q[2] {
		return p[2] > q[2]
	}
	return p[1] > q[1]
}

// Size returns the number of ranks.
func (d Decomposition) Size() int { return d.Ranks[0] * d.Ranks[1] * d.Ranks[2] }

// Coords returns the block coordinates of rank r; ranks are numbered with x
// fastest: r = cx + px·(cy + py·cz).
func (d Decomposition) Coords(r int) [3]int {
	px, py := d.Ranks[0], d.Ranks[1]
	return [3]int{r % px, (r / px) % py, r / (px * py)}
}

// RankAt returns the rank of the block at coordinates c, wrapping periodically.
func (d Decomposition) RankAt(c [3]int) int {
	for a := range 3 {
		c[a] = ((c[a] % d.Ranks[a]) + d.Ranks[a]) % d.Ranks[a]
	}
	return c[0] + d.Ranks[0]*(c[1]+d.Ranks[1]*c[2])
}

// Block returns the extent of rank r's block.
func (d Decomposition) Block(r int) Block {
	c := d.Coords(r)
	var b Block
	b.Global = d.Cells
	b.Coords = c
	for a := range 3 {
		lo := c[a] * d.Cells[a] / d.Ranks[a]
		hi := (c[a] + 1) * d.Cells[a] / d.Ranks[a]
		b.Start[a], b.Size[a] = lo, hi-lo
	}
	return b
}

// Block is one rank's part of the grid.
type Block struct {
	Global [3]int // global cells along x, y, z
	Coords [3]int // block coordinates in the decomposition
	Start  [3]int // global index of the first interior cell along x, y, z
	Size   [3]int // interior cells along x, y, z
}

// Cells returns the number of interior cells.
func (b Block) Cells() int { return b.Size[0] * b.Size[1] * b.Size[2] }

// Padded returns the array extents including ghost layers along x, y, z.
func (b Block) Padded() [3]int {
	return [3]int{b.Size[0] + 2*Ghost, b.Size[1] + 2*Ghost, b.Size[2] + 2*Ghost}
}

// Len returns the length of a padded array (interior plus ghosts).
func (b Block) Len() int { p := b.Padded(); return p[0] * p[1] * p[2] }

// Strides returns the index distance between neighbouring cells along x, y, z
// in a padded array.
func (b Block) Strides() [3]int {
	p := b.Padded()
	return [3]int{1, p[0], p[0] * p[1]}
}

// Index returns the padded-array index of local interior cell (i, j, k);
// ghost cells have local indices -Ghost..-1 and Size..Size+Ghost-1.
func (b Block) Index(i, j, k int) int {
	p := b.Padded()
	return ((k+Ghost)*p[1]+(j+Ghost))*p[0] + (i + Ghost)
}
