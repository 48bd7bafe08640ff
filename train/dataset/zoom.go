package dataset

import (
	"fmt"
	"math"
)

// Zoom returns a size² image that shows img (size², row-major) magnified by
// factor, for the zoom-invariance test: a factor above 1 resamples the
// central (size/factor)² crop up to size²; a factor below 1 resamples the
// whole image down to (size·factor)² and tiles it periodically to size²;
// factor 1 returns a copy. Crops and tiles keep the image's pixel values,
// so standardised images stay standardised to within the resampling.
func Zoom(img []float32, size int, factor float64) ([]float32, error) {
	if len(img) != size*size || size < 2 {
		return nil, fmt.Errorf("zoom: image of %d pixels is not %d²", len(img), size)
	}
	if !(factor >= 1.0/float64(size) && factor <= float64(size)) {
		return nil, fmt.Errorf("zoom: factor %g outside [1/%d, %d]", factor, size, size)
	}
	switch {
	case factor == 1:
		return append([]float32(nil), img...), nil
	case factor > 1:
		c := max(1, int(math.Round(float64(size)/factor)))
		off := (size - c) / 2
		crop := make([]float32, 0, c*c)
		for r := off; r < off+c; r++ {
			crop = append(crop, img[r*size+off:r*size+off+c]...)
		}
		return Resample(crop, c, size), nil
	}
	s := max(1, int(math.Round(float64(size)*factor)))
	small := Resample(img, size, s)
	out := make([]float32, size*size)
	for r := range size {
		for c := range size {
			out[r*size+c] = small[(r%s)*s+c%s]
		}
	}
	return out, nil
}
