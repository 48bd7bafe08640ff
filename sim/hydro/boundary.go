package hydro

import (
	"fmt"
	"time"

	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/mesh"
)

// BoundaryKind is the condition at the two ends of the box along one axis.
type BoundaryKind int

const (
	// Periodic wraps the box around: the turbulent box.
	Periodic BoundaryKind = iota
	// Outflow copies the last interior cell into the ghosts (zero gradient):
	// the shock tube's ends.
	Outflow
)

// Boundary fills the ghost layers of a block: from neighbouring ranks (or
// itself, when it is its own periodic neighbour) and at the box edges.
type Boundary struct {
	comm comm.Comm
	kind [3]BoundaryKind
	// lo and hi are the neighbour ranks below and above along each axis, or
	// comm.None at an outflow edge.
	lo, hi       [3]int
	self         int
	sendB, recvB []float64

	// Seconds is the wall time spent in Exchange, waiting included.
	Seconds float64
}

func newBoundary(c comm.Comm, dec mesh.Decomposition, kind [3]BoundaryKind) Boundary {
	b := Boundary{comm: c, kind: kind, self: c.Rank()}
	xyz := dec.Coords(c.Rank())
	for d := range 3 {
		down, up := xyz, xyz
		down[d]--
		up[d]++
		b.lo[d], b.hi[d] = dec.RankAt(down), dec.RankAt(up)
		if kind[d] == Outflow {
			if xyz[d] == 0 {
				b.lo[d] = comm.None
			}
			if xyz[d] == dec.Ranks[d]-1 {
				b.hi[d] = comm.None
			}
		}
	}
	return b
}

// Exchange fills every ghost cell of f: x first, then y, then z, each over
// the full padded extent of the other axes, so edges and corners are filled
// too.
func (bd *Boundary) Exchange(b mesh.Block, f *Fields) error {
	t0 := time.Now()
	defer func() { bd.Seconds += time.Since(t0).Seconds() }()
	for d := range 3 {
		if err := bd.exchangeAxis(b, f, d); err != nil {
			return fmt.Errorf("ghost exchange along %c: %w", "xyz"[d], err)
		}
	}
	return nil
}

func (bd *Boundary) exchangeAxis(b mesh.Block, f *Fields, d int) error {
	n, g := b.Size[d], mesh.Ghost
	if b.Global[d] == 1 {
		// One cell across the whole box: periodic and outflow both mean
		// copying it into every ghost layer.
		bd.copyEdge(b, f, d, true)
		bd.copyEdge(b, f, d, false)
		return nil
	}
	// Upward: my top interior layers become the low ghosts of the rank above.
	if err := bd.shift(b, f, d, n-g, bd.hi[d], -g, bd.lo[d], 2*d); err != nil {
		return err
	}
	// Downward: my bottom interior layers become the high ghosts of the rank below.
	if err := bd.shift(b, f, d, 0, bd.lo[d], n, bd.hi[d], 2*d+1); err != nil {
		return err
	}
	if bd.lo[d] == comm.None {
		bd.copyEdge(b, f, d, true)
	}
	if bd.hi[d] == comm.None {
		bd.copyEdge(b, f, d, false)
	}
	return nil
}

// shift sends the Ghost layers starting at local index from along d to rank
// dst and receives Ghost layers into local index into from rank src.
func (bd *Boundary) shift(b mesh.Block, f *Fields, d, from, dst, into, src, tag int) error {
	if dst == bd.self && src == bd.self {
		copySlab(b, f, d, from, into)
		return nil
	}
	size := slabLen(b, d)
	bd.sendB = grow(bd.sendB, size)
	bd.recvB = grow(bd.recvB, size)
	send, recv := bd.sendB[:0], bd.recvB[:0]
	if dst != comm.None {
		send = bd.sendB[:size]
		packSlab(b, f, d, from, send)
	}
	if src != comm.None {
		recv = bd.recvB[:size]
	}
	if err := bd.comm.Sendrecv(send, dst, recv, src, tag); err != nil {
		return err
	}
	if src != comm.None {
		unpackSlab(b, f, d, into, recv)
	}
	return nil
}

// copyEdge fills the low (or high) ghost layers along d with copies of the
// nearest interior layer.
func (bd *Boundary) copyEdge(b mesh.Block, f *Fields, d int, low bool) {
	edge, first := 0, -mesh.Ghost
	if !low {
		edge, first = b.Size[d]-1, b.Size[d]
	}
	stride := b.Strides()[d]
	for _, a := range f.all() {
		for layer := first; layer < first+mesh.Ghost; layer++ {
			shift := (edge - layer) * stride
			slabRows(b, d, layer, 1, func(s, n int) { copy(a[s:s+n], a[s+shift:s+shift+n]) })
		}
	}
}

// copySlab copies the Ghost layers starting at local index from along d to
// those starting at into: the periodic wrap of a rank that is its own
// neighbour.
func copySlab(b mesh.Block, f *Fields, d, from, into int) {
	shift := (into - from) * b.Strides()[d]
	for _, a := range f.all() {
		slabRows(b, d, from, mesh.Ghost, func(s, n int) { copy(a[s+shift:s+shift+n], a[s:s+n]) })
	}
}

// packSlab copies the Ghost layers starting at from along d into buf.
func packSlab(b mesh.Block, f *Fields, d, from int, buf []float64) {
	off := 0
	for _, a := range f.all() {
		slabRows(b, d, from, mesh.Ghost, func(s, n int) { off += copy(buf[off:off+n], a[s:s+n]) })
	}
}

// unpackSlab is the inverse of packSlab.
func unpackSlab(b mesh.Block, f *Fields, d, into int, buf []float64) {
	off := 0
	for _, a := range f.all() {
		slabRows(b, d, into, mesh.Ghost, func(s, n int) { off += copy(a[s:s+n], buf[off:off+n]) })
	}
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// slabLen is the number of values in Ghost layers across axis d (four fields).
func slabLen(b mesh.Block, d int) int {
	p := b.Padded()
	return 4 * mesh.Ghost * p[0] * p[1] * p[2] / p[d]
}

// slabRows calls fn(start, n) for every contiguous run of padded cells in the
// layers [first, first+count) along d (local indices), over the full padded
// extent of the other two axes.
func slabRows(b mesh.Block, d, first, count int, fn func(start, n int)) {
	p := b.Padded()
	lo := [3]int{-mesh.Ghost, -mesh.Ghost, -mesh.Ghost}
	hi := [3]int{p[0] - mesh.Ghost, p[1] - mesh.Ghost, p[2] - mesh.Ghost}
	lo[d], hi[d] = first, first+count
	n := hi[0] - lo[0]
	for k := lo[2]; k < hi[2]; k++ {
		for j := lo[1]; j < hi[1]; j++ {
			fn(b.Index(lo[0], j, k), n)
		}
	}
}
