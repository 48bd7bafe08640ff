package dataset

import (
	"fmt"
	"math"
)

// Geometry of the images of one snapshot.
const (
	// NumProjections is the number of column-density maps of a snapshot.
	NumProjections = 3
	// NumFlips is the number of flips of each quadrant.
	NumFlips = 4
	// NumQuadrants is the number of quadrants of each map.
	NumQuadrants = 4
	// PerSnapshot is the number of images cut from one snapshot, 48.
	PerSnapshot = NumProjections * NumFlips * NumQuadrants
)

// Projections names the snapshot fields of the projections 0, 1 and 2: the
// column density Σ (g cm⁻²) integrated along x, y and z.
var Projections = [NumProjections]string{"sigma_x", "sigma_y", "sigma_z"}

// FlipNames names the flips 0 to 3.
var FlipNames = [NumFlips]string{"none", "horizontal", "vertical", "both"}

// QuadrantNames names the quadrants 0 to 3.
var QuadrantNames = [NumQuadrants]string{"top-left", "top-right", "bottom-left", "bottom-right"}

// ImageIndex returns the position, in [0, PerSnapshot), of the image of the
// given projection, flip and quadrant among the 48 images of a snapshot:
// 16·projection + 4·flip + quadrant. It panics if an argument is out of range.
func ImageIndex(projection, flip, quadrant int) int {
	if uint(projection) >= NumProjections || uint(flip) >= NumFlips || uint(quadrant) >= NumQuadrants {
		panic(fmt.Sprintf("dataset: ImageIndex(%d, %d, %d) out of range", projection, flip, quadrant))
	}
	return NumFlips*NumQuadrants*projection + NumQuadrants*flip + quadrant
}

// Cut returns the 48 images of the three N × N column-density maps sigma
// (g cm⁻², C order, in the order sigma_x, sigma_y, sigma_z; N = n), each of
// size² pixels in row-major order, in the order of ImageIndex. A pixel is
// log10(Σ / (g cm⁻²)). Size 0 means n/2 (no resampling). The package
// documentation defines the geometry: cut, resample, log10, flip.
//
// The images share one allocation (each is capacity-limited). Cut fails if n
// is not even and positive, a map does not hold n² values, size is negative,
// or a value of Σ is not positive and finite (naming the map, row and
// column).
func Cut(sigma [NumProjections][]float32, n, size int) ([][]float32, error) {
	if n < 2 || n%2 != 0 {
		return nil, fmt.Errorf("maps of %d × %d cells: want an even side of at least 2", n, n)
	}
	if size < 0 {
		return nil, fmt.Errorf("image size %d: want ≥ 0 (0: N/2)", size)
	}
	if size == 0 {
		size = n / 2
	}
	block := make([]float32, PerSnapshot*size*size)
	if err := cutInto(block, sigma, n, size); err != nil {
		return nil, err
	}
	return splitBlock(block, size), nil
}

// splitBlock slices block into PerSnapshot capacity-limited images of size²
// pixels.
func splitBlock(block []float32, size int) [][]float32 {
	pix := size * size
	out := make([][]float32, PerSnapshot)
	for i := range out {
		out[i] = block[i*pix : (i+1)*pix : (i+1)*pix]
	}
	return out
}

// cutInto writes the 48 images of Cut (size > 0) into block, which holds
// PerSnapshot·size² values.
func cutInto(block []float32, sigma [NumProjections][]float32, n, size int) error {
	h := n / 2
	pix := size * size
	quad := make([]float32, h*h)
	base := make([]float32, pix)
	for p, m := range sigma {
		if len(m) != n*n {
			return fmt.Errorf("%s holds %d values, want %d × %d = %d", Projections[p], len(m), n, n, n*n)
		}
		for i, v := range m {
			if !(v > 0) || math.IsInf(float64(v), 1) {
				return fmt.Errorf("%s[%d][%d] = %g g cm^-2: column density must be positive and finite", Projections[p], i/n, i%n, v)
			}
		}
		for q := range NumQuadrants {
			r0, c0 := (q>>1)*h, (q&1)*h
			for r := range h {
				copy(quad[r*h:(r+1)*h], m[(r0+r)*n+c0:(r0+r)*n+c0+h])
			}
			src := quad
			if size != h {
				src = Resample(quad, h, size)
			}
			for i, v := range src {
				base[i] = float32(math.Log10(float64(v)))
			}
			for f := range NumFlips {
				dst := block[ImageIndex(p, f, q)*pix:][:pix]
				flip(dst, base, size, f)
			}
		}
	}
	return nil
}

// flip writes the size × size image src into dst mirrored according to f:
// bit 0 reverses the columns, bit 1 the rows.
func flip(dst, src []float32, size, f int) {
	for r := range size {
		sr := r
		if f&2 != 0 {
			sr = size - 1 - r
		}
		row := src[sr*size : (sr+1)*size]
		out := dst[r*size : (r+1)*size]
		if f&1 == 0 {
			copy(out, row)
			continue
		}
		for c := range size {
			out[c] = row[size-1-c]
		}
	}
}

// Resample returns the n × n image src (row-major) resampled to size × size:
//
//   - size == n: a copy;
//   - size < n: area averaging. Output pixel (i, j) is the mean of src over
//     the square it covers, [i·n/size, (i+1)·n/size) × [j·n/size, (j+1)·n/size)
//     in source pixels, each source pixel weighted by the area of its overlap.
//     For an integer factor n/size this is the plain box average; the mean of
//     the image is preserved for every factor;
//   - size > n: bilinear interpolation with pixel centres aligned: output
//     pixel i samples the source at x = (i + ½)·n/size − ½, clamped to
//     [0, n−1] (so the outermost half source pixel is constant). A linear
//     ramp is reproduced exactly wherever x is not clamped.
//
// Both directions are separable and accumulate in float64; the result is
// rounded to float32 once. Constant images are preserved exactly. Resample
// panics if n or size is less than 1 or len(src) != n².
func Resample(src []float32, n, size int) []float32 {
	if n < 1 || size < 1 || len(src) != n*n {
		panic(fmt.Sprintf("dataset: Resample of %d values as %d² to %d²", len(src), n, size))
	}
	out := make([]float32, size*size)
	if size == n {
		copy(out, src)
		return out
	}
	w := weights1D(n, size)
	// Along rows (columns of the image change): n rows of size values.
	tmp := make([]float64, n*size)
	for r := range n {
		row := src[r*n : (r+1)*n]
		for j, wj := range w {
			var acc float64
			for k, c := range wj.w {
				acc += c * float64(row[wj.start+k])
			}
			tmp[r*size+j] = acc
		}
	}
	// Along columns.
	for i, wi := range w {
		for j := range size {
			var acc float64
			for k, c := range wi.w {
				acc += c * tmp[(wi.start+k)*size+j]
			}
			out[i*size+j] = float32(acc)
		}
	}
	return out
}

// weight1D is the stencil of one output pixel of a 1-D resampling: the
// weights of the source pixels start, start+1, ….
type weight1D struct {
	start int
	w     []float64
}

// weights1D returns the stencils of a 1-D resampling from n to size pixels:
// area averaging when shrinking, bilinear interpolation when enlarging.
func weights1D(n, size int) []weight1D {
	out := make([]weight1D, size)
	if size < n {
		// In units of 1/size source pixels, output pixel i covers
		// [i·n, (i+1)·n) and source pixel k covers [k·size, (k+1)·size):
		// integer overlaps, which sum to n.
		for i := range size {
			lo, hi := i*n, (i+1)*n
			k0, k1 := lo/size, (hi+size-1)/size
			ws := make([]float64, 0, k1-k0)
			for k := k0; k < k1; k++ {
				ov := min(hi, (k+1)*size) - max(lo, k*size)
				ws = append(ws, float64(ov)/float64(n))
			}
			out[i] = weight1D{k0, ws}
		}
		return out
	}
	for i := range size {
		x := (float64(i)+0.5)*float64(n)/float64(size) - 0.5
		x = min(max(x, 0), float64(n-1))
		k := int(math.Floor(x))
		t := x - float64(k)
		if k >= n-1 || t == 0 {
			out[i] = weight1D{min(k, n-1), []float64{1}}
			continue
		}
		out[i] = weight1D{k, []float64{1 - t, t}}
	}
	return out
}
