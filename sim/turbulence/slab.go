package turbulence

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/turbindex/turbindex/sim/comm"
)

// Slab is one rank's share of a real N³ field decomposed in y: the rows
// Y0 ≤ y < Y1 of every z plane, stored [y−Y0][z][x] (x fastest).
type Slab struct {
	N, Y0, Y1 int
	V         [3][]float64 // vx, vy, vz
}

// At returns the index in V[c] of global cell (x, y, z), which must have
// Y0 ≤ y < Y1.
func (s *Slab) At(x, y, z int) int { return ((y-s.Y0)*s.N+z)*s.N + x }

// SlabRange returns the planes [lo, hi) of an N-plane axis owned by rank r
// of size ranks: contiguous, sizes differing by at most one.
func SlabRange(n, size, r int) (lo, hi int) {
	return r * n / size, (r + 1) * n / size
}

// VelocitySlab generates the velocity field of Velocity in parallel over the
// ranks of c; rank r returns its y-slab. Each rank fills its own slab of
// Fourier space (planes kz, by SlabRange), transforms along x and y, trades
// blocks with every other rank (an all-to-all transpose) so that it holds
// whole z lines of its y-slab, and transforms along z. No rank ever holds
// more than a slab. The 1-D transforms, the RNG counters and the order of
// every sum are those of the single-rank case, so the field is bitwise the
// same for every rank count.
func VelocitySlab(c comm.Comm, n int, s Spectrum, rms float64) (*Slab, error) {
	if err := s.Validate(n); err != nil {
		return nil, err
	}
	if !(rms > 0) || math.IsInf(rms, 1) {
		return nil, fmt.Errorf("turbulence: rms speed %g must be positive and finite", rms)
	}
	size, rank := c.Size(), c.Rank()
	z0, z1 := SlabRange(n, size, rank)
	y0, y1 := SlabRange(n, size, rank)
	out := &Slab{N: n, Y0: y0, Y1: y1}

	spec := fillSlab(n, s, z0, z1)
	// The transpose buffers serve the three components in turn: fresh
	// memory costs a page fault per 4 KiB on first touch, which dominated
	// the set-up before they were reused.
	var buf transposeBuffers
	for comp := range spec {
		// x and y lines lie within each kz plane of the slab.
		fftRows(n, spec[comp], true)
		fftStrided(n, spec[comp], n, n*n, z1-z0, true)
		lines, err := transpose(c, n, spec[comp], z0, z1, &buf)
		if err != nil {
			return nil, fmt.Errorf("turbulence: transpose: %w", err)
		}
		spec[comp] = nil
		// Layout [y][z][x]: z lines have stride N, one set per y row.
		fftStrided(n, lines, n, n*n, y1-y0, true)
		out.V[comp] = realPart(lines)
	}

	ms, err := slabMeanSquare(c, out)
	if err != nil {
		return nil, fmt.Errorf("turbulence: normalisation: %w", err)
	}
	if ms == 0 {
		kmin, kmax := s.band(n)
		return nil, fmt.Errorf("turbulence: no grid mode in the band %g ≤ |k| ≤ %g at N = %d", kmin, kmax, n)
	}
	scale := rms / math.Sqrt(ms)
	for _, v := range out.V {
		for i := range v {
			v[i] *= scale
		}
	}
	return out, nil
}

// fillSlab returns the three components of s.Mode on the kz planes
// [z0, z1) (array indices), layout [z−z0][y][x]. Mode is bitwise Hermitian,
// so evaluating it at every k gives a real field without pairing planes
// across ranks.
func fillSlab(n int, s Spectrum, z0, z1 int) [3][]complex128 {
	var spec [3][]complex128
	for c := range spec {
		spec[c] = make([]complex128, (z1-z0)*n*n)
	}
	parallelFor(z1-z0, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			kz := wavenumber(z0+p, n)
			for jy := range n {
				ky := wavenumber(jy, n)
				row := (p*n + jy) * n
				for ix := range n {
					m := s.Mode(n, wavenumber(ix, n), ky, kz)
					for c := range m {
						spec[c][row+ix] = m[c]
					}
				}
			}
		}
	})
	return spec
}

// transposeBuffers are the work arrays of transpose, kept between calls.
type transposeBuffers struct{ send, recv, lines []complex128 }

// grow returns b resized to n elements, reallocated only if too small.
func grow(b []complex128, n int) []complex128 {
	if cap(b) < n {
		return make([]complex128, n)
	}
	return b[:n]
}

// transpose turns rank c's z-slab [z−z0][y][x] of a complex field into its
// y-slab [y−y0][z][x] by an all-to-all exchange. The result lives in
// buf.lines until the next call.
func transpose(c comm.Comm, n int, slab []complex128, z0, z1 int, buf *transposeBuffers) ([]complex128, error) {
	size, self := c.Size(), c.Rank()
	y0, y1 := SlabRange(n, size, self)
	// My own block goes straight from slab to lines, below; only the
	// others' travel through send and recv.
	sendCounts, recvCounts := make([]int, size), make([]int, size)
	buf.send = grow(buf.send, len(slab)-(z1-z0)*(y1-y0)*n)
	send := buf.send[:0]
	nrecv := 0
	for q := range size {
		if q == self {
			continue
		}
		qy0, qy1 := SlabRange(n, size, q)
		qz0, qz1 := SlabRange(n, size, q)
		sendCounts[q] = 2 * (z1 - z0) * (qy1 - qy0) * n
		recvCounts[q] = 2 * (qz1 - qz0) * (y1 - y0) * n
		nrecv += (qz1 - qz0) * (y1 - y0) * n
		for p := range z1 - z0 {
			send = append(send, slab[(p*n+qy0)*n:(p*n+qy1)*n]...)
		}
	}
	buf.recv = grow(buf.recv, nrecv)
	recv := buf.recv
	if err := c.Alltoallv(floats(send), sendCounts, floats(recv), recvCounts); err != nil {
		return nil, err
	}
	// recv holds, for each other source q in turn, its planes z in
	// [qz0, qz1) of my rows: reorder into [y][z][x].
	buf.lines = grow(buf.lines, (y1-y0)*n*n)
	lines := buf.lines
	off := 0
	for q := range size {
		qz0, qz1 := SlabRange(n, size, q)
		for z := qz0; z < qz1; z++ {
			for y := y0; y < y1; y++ {
				dst := lines[((y-y0)*n+z)*n : ((y-y0)*n+z+1)*n]
				if q == self {
					copy(dst, slab[((z-z0)*n+y)*n:((z-z0)*n+y+1)*n])
					continue
				}
				copy(dst, recv[off:off+n])
				off += n
			}
		}
	}
	return lines, nil
}

// floats views a complex128 slice as its real and imaginary parts.
func floats(z []complex128) []float64 {
	if len(z) == 0 {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(&z[0])), 2*len(z))
}

// slabMeanSquare returns <vx² + vy² + vz²> over the whole box. Every (z, y)
// row is summed over the components, then x; the row sums are shared by all
// ranks, and each adds them in the same fixed order: over y within a z
// plane, then over z. The result is bitwise the same for every rank count.
func slabMeanSquare(c comm.Comm, s *Slab) (float64, error) {
	n, size := s.N, c.Size()
	local := make([]float64, 0, (s.Y1-s.Y0)*n)
	for y := s.Y0; y < s.Y1; y++ {
		for z := range n {
			var sum float64
			for _, v := range s.V {
				for _, x := range v[s.At(0, y, z) : s.At(0, y, z)+n] {
					sum += x * x
				}
			}
			local = append(local, sum)
		}
	}
	counts := make([]int, size)
	for q := range size {
		qy0, qy1 := SlabRange(n, size, q)
		counts[q] = (qy1 - qy0) * n
	}
	rows := make([]float64, n*n) // in rank order: [y][z]
	if err := c.Allgatherv(local, rows, counts); err != nil {
		return 0, err
	}
	var total float64
	for z := range n {
		var plane float64
		for y := range n {
			plane += rows[y*n+z]
		}
		total += plane
	}
	return total / float64(n*n*n), nil
}
