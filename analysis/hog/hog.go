// Package hog computes Histogram of Oriented Gradients features exactly as
// scikit-image 0.19 defines skimage.feature.hog for a 2-D grayscale image
// (channel_axis=None, feature_vector=True, transform_sqrt=False).
//
// The computation mirrors skimage/feature/_hog.py and _hoghistogram.pyx:
//
//   - gradients by central differences in float64, zero on the first/last
//     row (row gradient) and the first/last column (column gradient);
//   - magnitude = hypot(g_row, g_col) and orientation =
//     rad2deg(arctan2(g_row, g_col)) % 180 with numpy's remainder semantics;
//   - hard assignment of a pixel to bin i when
//     (180/n)*i <= orientation < (180/n)*(i+1), the boundaries computed in
//     float64 as the Cython code does (a pixel whose orientation is not below
//     the last boundary, e.g. exactly 180 after the modulo, falls in no bin);
//   - cell sums accumulated in float32 in row-major order within the cell
//     (the Cython "cdef float total", reproduced bit for bit) and divided, in
//     float32, by the cell area; only the floor(size/pixels_per_cell) complete
//     cells are used;
//   - blocks of CellsPerBlock cells sliding by one cell, normalised with L1,
//     L1-sqrt, L2 or L2-Hys (eps = 1e-5, clip at 0.2, renormalise);
//   - the feature vector ordered (block row, block col, cell row in block,
//     cell col in block, orientation), as numpy's ravel() of skimage's
//     normalized_blocks.
//
// Input images are []float32, row-major. Each value is widened to float64
// before anything else, so the result equals
// skimage.feature.hog(img.astype(np.float64), ...) (passing a float32 array to
// skimage itself would compute the gradients in float32; the difference is at
// the 1e-7 relative level). Non-finite pixels are rejected with an error
// (skimage would silently produce NaN features).
package hog

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Block normalisation methods accepted in Options.BlockNorm.
const (
	NormL1     = "L1"
	NormL1Sqrt = "L1-sqrt"
	NormL2     = "L2"
	NormL2Hys  = "L2-Hys"
)

// Options are the HOG parameters. PixelsPerCell and CellsPerBlock are
// (rows, cols), as in scikit-image.
type Options struct {
	Orientations  int
	PixelsPerCell [2]int
	CellsPerBlock [2]int
	BlockNorm     string // "L1", "L1-sqrt", "L2" or "L2-Hys"
}

// DefaultOptions are the project's defaults for a size×size image:
// 8 orientations, size/12 pixels per cell (12×12 cells; at least 1 pixel),
// 1×1 cell per block and L2-Hys block normalisation (scikit-image's default norm).
func DefaultOptions(size int) Options {
	ppc := size / 12
	if ppc < 1 {
		ppc = 1
	}
	return Options{
		Orientations:  8,
		PixelsPerCell: [2]int{ppc, ppc},
		CellsPerBlock: [2]int{1, 1},
		BlockNorm:     NormL2Hys,
	}
}

// Validate checks the options on their own (not against an image size).
func (o Options) Validate() error {
	if o.Orientations < 1 {
		return fmt.Errorf("hog: orientations must be >= 1, got %d", o.Orientations)
	}
	if o.PixelsPerCell[0] < 1 || o.PixelsPerCell[1] < 1 {
		return fmt.Errorf("hog: pixels per cell must be >= 1, got %dx%d", o.PixelsPerCell[0], o.PixelsPerCell[1])
	}
	if o.CellsPerBlock[0] < 1 || o.CellsPerBlock[1] < 1 {
		return fmt.Errorf("hog: cells per block must be >= 1, got %dx%d", o.CellsPerBlock[0], o.CellsPerBlock[1])
	}
	switch o.BlockNorm {
	case NormL1, NormL1Sqrt, NormL2, NormL2Hys:
	default:
		return fmt.Errorf("hog: unknown block norm %q (want L1, L1-sqrt, L2 or L2-Hys)", o.BlockNorm)
	}
	return nil
}

// geometry returns the number of cells and blocks along each axis, or an error.
func geometry(rows, cols int, o Options) (nCR, nCC, nBR, nBC int, err error) {
	if err = o.Validate(); err != nil {
		return
	}
	if rows < 1 || cols < 1 {
		err = fmt.Errorf("hog: image size must be positive, got %dx%d", rows, cols)
		return
	}
	nCR, nCC = rows/o.PixelsPerCell[0], cols/o.PixelsPerCell[1]
	nBR, nBC = nCR-o.CellsPerBlock[0]+1, nCC-o.CellsPerBlock[1]+1
	if nBR < 1 || nBC < 1 {
		err = fmt.Errorf("hog: image %dx%d too small for %dx%d pixels per cell and %dx%d cells per block (%dx%d complete cells)",
			rows, cols, o.PixelsPerCell[0], o.PixelsPerCell[1], o.CellsPerBlock[0], o.CellsPerBlock[1], nCR, nCC)
	}
	return
}

// Len is the length of the feature vector for a rows×cols image, or 0 when
// the options are invalid or the image is too small for them.
func Len(rows, cols int, o Options) int {
	_, _, nBR, nBC, err := geometry(rows, cols, o)
	if err != nil {
		return 0
	}
	return nBR * nBC * o.CellsPerBlock[0] * o.CellsPerBlock[1] * o.Orientations
}

// Extractor computes HOG features for images of one size and one set of
// options, reusing its buffers: Compute does not allocate when dst has room.
// An Extractor is not safe for concurrent use; use one per goroutine.
type Extractor struct {
	rows, cols         int
	o                  Options
	nCR, nCC, nBR, nBC int
	bnd                []float64 // bin boundaries (180/n)*i, i = 0..n
	binScale           float64   // n/180, first guess of the bin
	cosB, sinB         []float64 // cos, sin of the boundaries, for binOf
	guess              []int32   // candidate bin by pseudo-angle slot, for binOf
	acc                []float32 // cell sums, (cell row, cell col, orientation)
	hist               []float64 // cell histograms after division by the area
	length             int
}

// NewExtractor validates the options against the image size.
func NewExtractor(rows, cols int, o Options) (*Extractor, error) {
	nCR, nCC, nBR, nBC, err := geometry(rows, cols, o)
	if err != nil {
		return nil, err
	}
	n := o.Orientations
	e := &Extractor{
		rows: rows, cols: cols, o: o,
		nCR: nCR, nCC: nCC, nBR: nBR, nBC: nBC,
		bnd:      make([]float64, n+1),
		binScale: float64(n) / 180,
		acc:      make([]float32, nCR*nCC*n),
		hist:     make([]float64, nCR*nCC*n),
		length:   Len(rows, cols, o),
	}
	// Cython: number_of_orientations_per_180 = 180. / n (a double for float64
	// input), boundaries number_of_orientations_per_180 * i.
	per180 := 180.0 / float64(n)
	e.cosB = make([]float64, n+1)
	e.sinB = make([]float64, n+1)
	for i := range e.bnd {
		e.bnd[i] = per180 * float64(i)
		e.sinB[i], e.cosB[i] = math.Sincos(e.bnd[i] * (math.Pi / 180))
	}
	// Exact sentinels for 0° and 180°: the tests against them always pass
	// once the direction is folded and away from the horizontal.
	e.sinB[0], e.cosB[0], e.sinB[n], e.cosB[n] = 0, 1, 0, -1
	// Pseudo-angle q = (1 - gc/(gr+|gc|))/2 grows monotonically with θ on
	// [0°, 180°]; guess[s] is the bin at the start of slot s = floor(q·K).
	e.guess = make([]int32, guessSlots+1)
	j := 0
	for s := range e.guess {
		q := float64(s) / guessSlots
		for j < n-1 && pseudo(e.sinB[j+1], e.cosB[j+1]) <= q {
			j++
		}
		e.guess[s] = int32(j)
	}
	return e, nil
}

// Len is the feature-vector length.
func (e *Extractor) Len() int { return e.length }

// rad2deg is numpy's 180.0/NPY_PI evaluated in float64 at run time (a Go
// constant expression would be rounded once from the exact quotient).
var rad2deg = func() float64 { pi := math.Pi; return 180.0 / pi }()

// orientation returns rad2deg(arctan2(gr, gc)) % 180 with numpy's float
// remainder (fmod, then add the divisor when the signs differ, +0 for zero).
func orientation(gr, gc float64) float64 {
	a := math.Atan2(gr, gc) * rad2deg
	if a >= 180 || a <= -180 {
		a = math.Mod(a, 180)
	}
	if a < 0 {
		a += 180
	} else if a == 0 {
		a = 0 // +0
	}
	return a
}

// bin returns the bin index of orientation a, or -1 when a is not below the
// last boundary (skimage then counts the pixel in no bin).
func (e *Extractor) bin(a float64) int {
	n := len(e.bnd) - 1
	if !(a < e.bnd[n]) {
		return -1
	}
	i := int(a * e.binScale)
	if i > n-1 {
		i = n - 1
	}
	for i > 0 && a < e.bnd[i] {
		i--
	}
	for i < n-1 && a >= e.bnd[i+1] {
		i++
	}
	return i
}

// sideMargin decides when the cheap side-of-boundary test in binOf is
// conclusive: |sin(θ-β)| above it (relative to |gr|+|gc|) is ~1e6 times the
// combined rounding of that test, of atan2, rad2deg and the modulo.
const sideMargin = 1e-10

const guessSlots = 4096

// pseudo is the pseudo-angle in [0, 1] of a direction with sr >= 0.
func pseudo(sr, sc float64) float64 { return (1 - sc/(sr+math.Abs(sc))) / 2 }

// binOf returns bin(orientation(gr, gc)) without calling atan2 when the
// gradient direction is clearly inside one bin: the direction is folded onto
// [0°, 180°) and compared with each boundary β by the sign of
// sin(θ-β) ∝ gr·cos β - gc·sin β (binary search). Directions within
// sideMargin of a boundary (including 0° and 180°, where the numpy modulo
// quirks live) take the exact path through atan2.
func (e *Extractor) binOf(gr, gc float64) int {
	fr, fc := gr, gc
	if fr < 0 {
		fr, fc = -fr, -fc
	}
	afc := math.Abs(fc)
	m := sideMargin * (fr + afc)
	if fr <= m {
		return e.bin(orientation(gr, gc))
	}
	// Fast path: a table guess, confirmed by the two boundary tests.
	b := e.guess[int((0.5-0.5*fc/(fr+afc))*guessSlots)]
	if fr*e.cosB[b]-fc*e.sinB[b] > m && fr*e.cosB[b+1]-fc*e.sinB[b+1] < -m {
		return int(b)
	}
	lo, hi := 0, len(e.bnd)-1 // invariant: β_lo < θ < β_hi
	for hi-lo > 1 {
		mid := (lo + hi) >> 1
		v := fr*e.cosB[mid] - fc*e.sinB[mid]
		if v > m {
			lo = mid
		} else if v < -m {
			hi = mid
		} else {
			return e.bin(orientation(gr, gc))
		}
	}
	return lo
}

// Compute writes the features of img (rows×cols, row-major) into dst, which
// is grown only if its capacity is below Len(), and returns it.
func (e *Extractor) Compute(dst []float64, img []float32) ([]float64, error) {
	rows, cols := e.rows, e.cols
	if len(img) != rows*cols {
		return dst, fmt.Errorf("hog: image has %d pixels, want %dx%d = %d", len(img), rows, cols, rows*cols)
	}
	if !allFinite(img) {
		for i, v := range img {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return dst, fmt.Errorf("hog: non-finite pixel %v at row %d, col %d", v, i/cols, i%cols)
			}
		}
	}
	if cap(dst) < e.length {
		dst = make([]float64, e.length)
	}
	dst = dst[:e.length]

	e.cellHistograms(img)
	e.normaliseBlocks(dst)
	return dst, nil
}

// allFinite reports whether no pixel is NaN or ±Inf (v*0 is NaN exactly then).
func allFinite(img []float32) bool {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(img); i += 4 {
		s0 += img[i] * 0
		s1 += img[i+1] * 0
		s2 += img[i+2] * 0
		s3 += img[i+3] * 0
	}
	for ; i < len(img); i++ {
		s0 += img[i] * 0
	}
	return s0+s1+s2+s3 == 0
}

// cellHistograms fills e.hist, reproducing _hoghistogram.hog_histograms.
func (e *Extractor) cellHistograms(img []float32) {
	rows, cols := e.rows, e.cols
	pr, pc := e.o.PixelsPerCell[0], e.o.PixelsPerCell[1]
	n := e.o.Orientations
	acc := e.acc
	for i := range acc {
		acc[i] = 0
	}
	for r := 0; r < e.nCR*pr; r++ {
		rowAcc := acc[(r/pr)*e.nCC*n : (r/pr+1)*e.nCC*n]
		line := img[r*cols : (r+1)*cols]
		var up, down []float32
		interior := r > 0 && r < rows-1
		if interior {
			up = img[(r-1)*cols : r*cols]
			down = img[(r+1)*cols : (r+2)*cols]
		}
		guess, cosB, sinB := e.guess, e.cosB, e.sinB
		c := 0
		for cc := 0; cc < e.nCC; cc++ {
			cell := rowAcc[cc*n : (cc+1)*n]
			for end := c + pc; c < end; c++ {
				var gr, gc float64
				if interior {
					gr = float64(down[c]) - float64(up[c])
				}
				if c > 0 && c < cols-1 {
					gc = float64(line[c+1]) - float64(line[c-1])
				}
				if gr == 0 && gc == 0 {
					// magnitude 0 in bin 0: float32(total + 0) == total.
					continue
				}
				// binOf's fast path, inlined.
				fr, fc := gr, gc
				if fr < 0 {
					fr, fc = -fr, -fc
				}
				sum := fr + math.Abs(fc)
				m := sideMargin * sum
				b := -2
				if fr > m {
					g := guess[int((0.5-0.5*fc/sum)*guessSlots)]
					if fr*cosB[g]-fc*sinB[g] > m && fr*cosB[g+1]-fc*sinB[g+1] < -m {
						b = int(g)
					}
				}
				if b == -2 {
					if b = e.binOf(gr, gc); b < 0 {
						continue
					}
				}
				mag := math.Sqrt(gr*gr + gc*gc)
				// Cython: "cdef float total; total += magnitude[...]" (double).
				cell[b] = float32(float64(cell[b]) + mag)
			}
		}
	}
	area := float32(pr * pc)
	for i, v := range acc {
		e.hist[i] = float64(v / area)
	}
}

const eps = 1e-5

// normaliseBlocks writes the normalised blocks into dst (len e.length).
func (e *Extractor) normaliseBlocks(dst []float64) {
	n := e.o.Orientations
	br, bc := e.o.CellsPerBlock[0], e.o.CellsPerBlock[1]
	bl := br * bc * n
	eps2 := epsVar * epsVar
	k := 0
	for r := 0; r < e.nBR; r++ {
		for c := 0; c < e.nBC; c++ {
			out := dst[k : k+bl]
			j := 0
			for i := 0; i < br; i++ {
				base := ((r+i)*e.nCC + c) * n
				j += copy(out[j:], e.hist[base:base+bc*n])
			}
			switch e.o.BlockNorm {
			case NormL1, NormL1Sqrt:
				s := 0.0
				for _, v := range out {
					s += math.Abs(v)
				}
				d := s + eps
				for i := range out {
					out[i] /= d
				}
				if e.o.BlockNorm == NormL1Sqrt {
					for i := range out {
						out[i] = math.Sqrt(out[i])
					}
				}
			case NormL2, NormL2Hys:
				l2div(out, eps2)
				if e.o.BlockNorm == NormL2Hys {
					for i, v := range out {
						out[i] = math.Min(v, 0.2)
					}
					l2div(out, eps2)
				}
			}
			k += bl
		}
	}
}

var epsVar = eps // Python's eps ** 2 is rounded from the float64 eps

func l2div(out []float64, eps2 float64) {
	s := 0.0
	for _, v := range out {
		s += v * v
	}
	d := math.Sqrt(s + eps2)
	for i := range out {
		out[i] /= d
	}
}

// Features computes the HOG feature vector of one rows×cols image
// (row-major float32 pixels). Its length is Len(rows, cols, o).
func Features(img []float32, rows, cols int, o Options) ([]float64, error) {
	e, err := NewExtractor(rows, cols, o)
	if err != nil {
		return nil, err
	}
	return e.Compute(nil, img)
}

// FeaturesBatch computes the features of many images of the same size in
// parallel with the given number of workers (<= 0: GOMAXPROCS). Each worker
// reuses one Extractor; the results share one backing array. On a bad image
// the batch stops and the error names the (lowest-indexed failing) image.
func FeaturesBatch(images [][]float32, rows, cols int, o Options, workers int) ([][]float64, error) {
	proto, err := NewExtractor(rows, cols, o)
	if err != nil {
		return nil, err
	}
	if len(images) == 0 {
		return nil, nil
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > len(images) {
		workers = len(images)
	}
	L := proto.length
	back := make([]float64, len(images)*L)
	out := make([][]float64, len(images))
	errs := make([]error, len(images))
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		e := proto
		if w > 0 {
			e, _ = NewExtractor(rows, cols, o)
		}
		wg.Add(1)
		go func(e *Extractor) {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= len(images) {
					return
				}
				f, err := e.Compute(back[i*L:(i+1)*L:(i+1)*L], images[i])
				if err != nil {
					errs[i] = fmt.Errorf("image %d: %w", i, err)
					failed.Store(true)
					return
				}
				out[i] = f
			}
		}(e)
	}
	wg.Wait()
	if failed.Load() {
		return nil, firstErr(errs)
	}
	return out, nil
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
