package study

import (
	"fmt"
	"maps"
	"runtime"
	"slices"

	"github.com/turbindex/turbindex/analysis/hog"
	"github.com/turbindex/turbindex/analysis/moments"
	"github.com/turbindex/turbindex/analysis/spectrum"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/dataset"
)

// data are images of the study, raw (log10 Σ), and their features.
type data struct {
	images  []dataset.Image
	hog     [][]float64
	slope   []float64         // slope of the power spectrum of log Σ
	moments []moments.Moments // of the log-Σ PDF
}

// computeFeatures computes the features of d's images of side size.
func (d *data) computeFeatures(size int) error {
	var err error
	if d.hog, err = hogOf(d.images, size); err != nil {
		return err
	}
	if d.slope, err = slopes(d.images, size); err != nil {
		return err
	}
	d.moments = make([]moments.Moments, len(d.images))
	for i, im := range d.images {
		if d.moments[i], err = moments.Of(im.Pix); err != nil {
			return fmt.Errorf("%s: %w", im.Label.ID, err)
		}
	}
	return nil
}

func (d *data) where(pred func(dataset.Label) bool) *data {
	out := &data{}
	for i, im := range d.images {
		if pred(im.Label) {
			out.images = append(out.images, im)
			out.hog = append(out.hog, d.hog[i])
			out.slope = append(out.slope, d.slope[i])
			out.moments = append(out.moments, d.moments[i])
		}
	}
	return out
}

// labels are the classes of d's images: 1 for Burgers, 0 otherwise.
func (d *data) labels() []int {
	y := make([]int, len(d.images))
	for i, im := range d.images {
		if im.Label.Class == campaign.Burgers {
			y[i] = 1
		}
	}
	return y
}

func (d *data) index() []float64 {
	y := make([]float64, len(d.images))
	for i, im := range d.images {
		y[i] = im.Label.Index
	}
	return y
}

func (d *data) ids() []string {
	s := make([]string, len(d.images))
	for i, im := range d.images {
		s[i] = im.Label.ID
	}
	return s
}

// derive returns d's images transformed by f (which returns new pixels of
// the same size and must not modify its argument), with their features.
func (s *state) derive(d *data, f func(pix []float32) ([]float32, error)) (*data, error) {
	return s.deriveImages(d, func(im dataset.Image) ([]float32, error) { return f(im.Pix) })
}

// deriveImages is derive for transformations that depend on the image's
// label (a noise stream per image).
func (s *state) deriveImages(d *data, f func(im dataset.Image) ([]float32, error)) (*data, error) {
	out := &data{images: make([]dataset.Image, len(d.images))}
	for i, im := range d.images {
		pix, err := f(im)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", im.Label.ID, err)
		}
		out.images[i] = dataset.Image{Size: s.size, Pix: pix, Label: im.Label}
	}
	return out, out.computeFeatures(s.size)
}

func hogOf(images []dataset.Image, size int) ([][]float64, error) {
	pix := make([][]float32, len(images))
	for i, im := range images {
		pix[i] = im.Pix
	}
	return hog.FeaturesBatch(pix, size, size, hog.DefaultOptions(size), runtime.GOMAXPROCS(0))
}

func slopes(images []dataset.Image, size int) ([]float64, error) {
	out := make([]float64, len(images))
	for i, im := range images {
		s, err := spectrum.Slope(im.Pix, size, spectrum.Options{Window: "hann"})
		if err != nil {
			return nil, fmt.Errorf("power spectrum of %s: %w", im.Label.ID, err)
		}
		out[i] = s
	}
	return out, nil
}

func scaled(scales []float64, dims int) []float64 {
	out := make([]float64, len(scales))
	for i, s := range scales {
		out[i] = s / float64(dims)
	}
	return out
}

// f64 converts numbers to float64.
func f64[T int | float32](v []T) []float64 {
	out := make([]float64, len(v))
	for i, a := range v {
		out[i] = float64(a)
	}
	return out
}

func slug(s string) string {
	b := []byte{}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b = append(b, c)
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			if len(b) > 0 && b[len(b)-1] != '_' {
				b = append(b, '_')
			}
		}
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
