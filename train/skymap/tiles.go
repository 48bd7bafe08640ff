package skymap

import (
	"errors"
	"fmt"
	"math"

	"github.com/turbindex/turbindex/train/dataset"
)

// ErrTooSmall marks a map smaller than one tile (errors.Is).
var ErrTooSmall = errors.New("map smaller than one tile")

// sameScale is the relative difference of pixel sizes below which a map is
// not resampled (rounding of the WCS cards).
const sameScale = 1e-6

// Resample returns m on square pixels of pc parsecs, with the stencils of
// dataset.Resample along each axis: area averaging where m's pixels are
// smaller, bilinear interpolation where they are larger. Holes do not
// spread: an output pixel is the weighted mean of the valid input pixels
// under its stencil, and a hole if they carry less than half its weight.
// A map already on pc-sized pixels (within 10⁻⁶) is returned as is. The
// output size is the input's extent over pc, rounded; maxValues (0: no
// bound) bounds it.
func Resample(m *Map, pc float64, maxValues int) (*Map, error) {
	if !(pc > 0) || math.IsInf(pc, 0) {
		return nil, fmt.Errorf("resample to %g pc pixels: must be positive and finite", pc)
	}
	if math.Abs(m.PixelPc[0]/pc-1) < sameScale && math.Abs(m.PixelPc[1]/pc-1) < sameScale {
		return m, nil
	}
	cols := int(math.Round(float64(m.Cols) * m.PixelPc[0] / pc))
	rows := int(math.Round(float64(m.Rows) * m.PixelPc[1] / pc))
	if rows < 1 || cols < 1 {
		return nil, fmt.Errorf("%w: %d × %d pixels of %.4g × %.4g pc are %.4g × %.4g pc, less than one %.4g pc pixel",
			ErrTooSmall, m.Rows, m.Cols, m.PixelPc[1], m.PixelPc[0], float64(m.Rows)*m.PixelPc[1], float64(m.Cols)*m.PixelPc[0], pc)
	}
	if maxValues > 0 && rows*cols > maxValues {
		return nil, fmt.Errorf("resampling %d × %d pixels of %.4g pc to %.4g pc gives %d × %d pixels, more than the %d allowed: crop the map",
			m.Rows, m.Cols, m.PixelPc[0], pc, rows, cols, maxValues)
	}
	rs, rw := dataset.Stencil(m.Rows, rows)
	cs, cw := dataset.Stencil(m.Cols, cols)
	out := *m
	out.Rows, out.Cols = rows, cols
	out.PixelPc = [2]float64{float64(m.Cols) * m.PixelPc[0] / float64(cols), float64(m.Rows) * m.PixelPc[1] / float64(rows)}
	out.Sigma = make([]float64, rows*cols)
	for i := range rows {
		for j := range cols {
			var sum, wsum float64
			for a, wa := range rw[i] {
				row := m.Sigma[(rs[i]+a)*m.Cols:]
				for b, wb := range cw[j] {
					if v := row[cs[j]+b]; !math.IsNaN(v) {
						sum += wa * wb * v
						wsum += wa * wb
					}
				}
			}
			out.Sigma[i*cols+j] = math.NaN()
			if wsum >= 0.5 {
				out.Sigma[i*cols+j] = sum / wsum
			}
		}
	}
	return &out, nil
}

// Tile is one training-size square of a map.
type Tile struct {
	// Row and Col are the map pixel of its top-left corner.
	Row, Col int
	// Holes is the fraction of its pixels that were holes, filled with the
	// mean log Σ of the others.
	Holes float64
	// Pix holds size² values log10(Σ / (g cm⁻²)), row-major, as a
	// training image's before standardisation.
	Pix []float32
}

// Tiles cuts m into non-overlapping size × size tiles from its top-left
// corner (rows and columns beyond the last whole tile are left out) and
// returns those whose fraction of holes is at most maxHoles, with the
// number skipped for having more. It fails if m is smaller than one tile
// or every tile is skipped.
func Tiles(m *Map, size int, maxHoles float64) (tiles []Tile, skipped int, err error) {
	return TilesStride(m, size, size, maxHoles)
}

// TilesStride is Tiles with tiles every stride pixels (overlapping when
// stride < size).
func TilesStride(m *Map, size, stride int, maxHoles float64) (tiles []Tile, skipped int, err error) {
	if size < 1 || stride < 1 {
		return nil, 0, fmt.Errorf("tile size %d, stride %d: must be positive", size, stride)
	}
	if m.Rows < size || m.Cols < size {
		return nil, 0, fmt.Errorf("%w: %d × %d pixels of %.4g pc, and a tile is %d × %d pixels (%.4g pc across)",
			ErrTooSmall, m.Rows, m.Cols, m.PixelPc[0], size, size, float64(size)*m.PixelPc[0])
	}
	for r := 0; r+size <= m.Rows; r += stride {
		for c := 0; c+size <= m.Cols; c += stride {
			t := Tile{Row: r, Col: c, Pix: make([]float32, size*size)}
			var sum float64
			holes := 0
			for i := range size {
				for j := range size {
					v := m.Sigma[(r+i)*m.Cols+c+j]
					if math.IsNaN(v) {
						holes++
						t.Pix[i*size+j] = float32(math.NaN())
						continue
					}
					l := float32(math.Log10(v))
					t.Pix[i*size+j] = l
					sum += float64(l)
				}
			}
			t.Holes = float64(holes) / float64(size*size)
			if t.Holes > maxHoles || holes == size*size {
				skipped++
				continue
			}
			if holes > 0 {
				fill := float32(sum / float64(size*size-holes))
				for k, v := range t.Pix {
					if v != v {
						t.Pix[k] = fill
					}
				}
			}
			tiles = append(tiles, t)
		}
	}
	if len(tiles) == 0 {
		return nil, skipped, fmt.Errorf("%w: all %d tiles have more than %.0f%% holes", ErrEmpty, skipped, 100*maxHoles)
	}
	return tiles, skipped, nil
}
