package dataset

import (
	"errors"
	"fmt"
	"image"
	"math"
	"strconv"

	"github.com/turbindex/turbindex/internal/atomicfile"
	"github.com/turbindex/turbindex/sim/export"
)

// WritePNG writes img to path as an 8-bit grayscale PNG for people to look
// at, atomically (temporary file, synced, renamed). Pixel values (log10(Σ /
// (g cm⁻²))) map linearly from the fixed range [lo, hi] to gray levels 0 to
// 255, rounded to nearest and clamped; use one range for a whole campaign
// (CampaignRange) so that images compare. Row 0 is the top row.
//
// The file carries tEXt chunks (before IEND) recording the mapping and the
// label: lo, hi (strconv 'g' format), unit ("log10(g cm^-2)"), id, class,
// index, split, projection (sigma_x, sigma_y or sigma_z), flip (none,
// horizontal, vertical, both) and quadrant (top-left, top-right, bottom-left,
// bottom-right).
func WritePNG(path string, img Image, lo, hi float64) error {
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || !(lo < hi) {
		return fmt.Errorf("png %s: log-Σ range [%g, %g]: want finite lo < hi", path, lo, hi)
	}
	if img.Size < 1 || len(img.Pix) != img.Size*img.Size {
		return fmt.Errorf("png %s: image of side %d has %d pixels", path, img.Size, len(img.Pix))
	}
	l := img.Label
	if uint(l.Projection) >= NumProjections || uint(l.Flip) >= NumFlips || uint(l.Quadrant) >= NumQuadrants {
		return fmt.Errorf("png %s: label projection %d, flip %d, quadrant %d out of range", path, l.Projection, l.Flip, l.Quadrant)
	}
	g := image.NewGray(image.Rect(0, 0, img.Size, img.Size))
	for i, v := range img.Pix {
		g.Pix[i] = export.Level(float64(v), lo, hi)
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	text := [][2]string{
		{"lo", f(lo)},
		{"hi", f(hi)},
		{"unit", PixelUnit},
		{"id", l.ID},
		{"class", l.Class},
		{"index", f(l.Index)},
		{"split", l.Split},
		{"projection", Projections[l.Projection]},
		{"flip", FlipNames[l.Flip]},
		{"quadrant", QuadrantNames[l.Quadrant]},
		{"Software", "turbindex train/dataset"},
	}
	out, err := export.EncodePNG(g, text)
	if err != nil {
		return fmt.Errorf("png %s: %w", path, err)
	}
	if err := atomicfile.WriteBytes(path, out); err != nil {
		return fmt.Errorf("png %s: %w", path, err)
	}
	return nil
}

// CampaignRange returns a fixed log-Σ range [lo, hi] (log10(Σ / (g cm⁻²)))
// for the PNGs of a campaign: the minimum and maximum pixel over images
// (pass the training split) rounded outwards to a multiple of a step, one
// tenth of the power of ten at or below the spread (a spread of 0.015 dex
// gives a step of 0.001), or 0.001 if all pixels are equal. It fails if
// images are empty or hold a non-finite pixel.
func CampaignRange(images []Image) (lo, hi float64, err error) {
	lo, hi = math.Inf(1), math.Inf(-1)
	count := 0
	for _, im := range images {
		for _, v := range im.Pix {
			x := float64(v)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return 0, 0, fmt.Errorf("pixel range: image of %s holds %g", im.Label.ID, x)
			}
			lo, hi = min(lo, x), max(hi, x)
			count++
		}
	}
	if count == 0 {
		return 0, 0, errors.New("pixel range: no pixels")
	}
	step := 1e-3
	if hi > lo {
		step = math.Pow(10, math.Floor(math.Log10(hi-lo))-1)
	}
	rlo, rhi := math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	// Guard against rounding in the products above.
	for rlo > lo {
		rlo -= step
	}
	for rhi < hi {
		rhi += step
	}
	if !(rhi > rlo) {
		rhi = rlo + step
	}
	return rlo, rhi, nil
}
