package turbulence

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/dsp/fourier"
)

// lineBlock is the number of neighbouring lines gathered at once for the
// strided (y and z) transforms. Lines that are neighbours in x share cache
// lines (a complex128 is 16 bytes, a cache line 64), so gathering several
// together turns scattered single-element loads into whole-line loads.
const lineBlock = 8

// fft3 transforms the N³ complex array data (C order [z][y][x]) in place by
// 1-D complex transforms along x, then y, then z. With inverse false it
// computes F(k) = Σ_x f(x) exp(−2πi k·x/N); with inverse true
// f(x) = Σ_k F(k) exp(+2πi k·x/N). Neither direction is normalised (gonum's
// Coefficients and Sequence are not), so a forward transform followed by an
// inverse one multiplies data by N³.
//
// Lines are transformed in parallel; each line's transform is independent
// and computed the same way whoever does it, so the result does not depend
// on GOMAXPROCS.
func fft3(n int, data []complex128, inverse bool) {
	if len(data) != n*n*n {
		panic("turbulence: fft3 data length is not N³")
	}
	fftRows(n, data, inverse)
	fftStrided(n, data, n, n*n, n, inverse) // y lines: stride N, one set per z plane (N² apart)
	fftStrided(n, data, n*n, n, n, inverse) // z lines: stride N², one set per y row (N apart)
}

// transform1 applies one unnormalised 1-D transform to line in place.
func transform1(p *fourier.CmplxFFT, line []complex128, inverse bool) {
	if inverse {
		p.Sequence(line, line)
	} else {
		p.Coefficients(line, line)
	}
}

// fftRows transforms the len(data)/N contiguous x lines of data in place.
func fftRows(n int, data []complex128, inverse bool) {
	parallelFor(len(data)/n, func(lo, hi int) {
		p := fourier.NewCmplxFFT(n)
		for r := lo; r < hi; r++ {
			transform1(p, data[r*n:(r+1)*n], inverse)
		}
	})
}

// fftStrided transforms in place the lines of data whose elements are stride
// apart. Line (o, i), for outer index o and x index i in [0, N), starts at
// o*outer + i, for o in [0, sets). Lines are handled lineBlock neighbours
// in x at a time.
func fftStrided(n int, data []complex128, stride, outer, sets int, inverse bool) {
	blocks := (n + lineBlock - 1) / lineBlock
	parallelFor(sets*blocks, func(lo, hi int) {
		p := fourier.NewCmplxFFT(n)
		var scratch [lineBlock][]complex128
		for b := range scratch {
			scratch[b] = make([]complex128, n)
		}
		for t := lo; t < hi; t++ {
			o, i0 := t/blocks, (t%blocks)*lineBlock
			width := min(lineBlock, n-i0)
			base := o*outer + i0
			for m := range n {
				for b, v := range data[base+m*stride : base+m*stride+width] {
					scratch[b][m] = v
				}
			}
			for b := range width {
				transform1(p, scratch[b], inverse)
			}
			for m := range n {
				row := data[base+m*stride : base+m*stride+width]
				for b := range row {
					row[b] = scratch[b][m]
				}
			}
		}
	})
}

// parallelFor calls body on contiguous chunks [lo, hi) covering [0, count),
// one goroutine per chunk, at most GOMAXPROCS of them, and waits for all.
// body must only touch data owned by its chunk.
func parallelFor(count int, body func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), count)
	if workers <= 1 {
		body(0, count)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*count/workers, (w+1)*count/workers
		wg.Go(func() { body(lo, hi) })
	}
	wg.Wait()
}
