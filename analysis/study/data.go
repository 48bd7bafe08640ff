package study

import (
	"cmp"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/turbindex/turbindex/analysis/hog"
	"github.com/turbindex/turbindex/analysis/moments"
	"github.com/turbindex/turbindex/analysis/spectrum"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/progress"
	"github.com/turbindex/turbindex/train/dataset"
)

// data are images of the study, by their labels and their indices in the
// campaign's image stream, with their features. Pixels are not kept: what
// needs them (features, the CNN) reads them from the stream a window at a
// time, so the study's memory grows with the number of images only by their
// features.
type data struct {
	src  *dataset.Stream
	img  []int           // images of src
	lab  []dataset.Label // their labels
	prep prepare         // applied to the raw pixels when read (nil: none)

	hog     [][]float64
	slope   []float64         // slope of the power spectrum of log Σ
	moments []moments.Moments // of the log-Σ PDF
}

// prepare returns the pixels an image is to have (new ones, or im.Pix
// modified in place).
type prepare func(im dataset.Image) ([]float32, error)

// featureBatch is the number of images whose features are computed at once.
const featureBatch = 64

// computeFeatures computes the features of d's images, reporting progress
// under the given name.
func (s *state) computeFeatures(d *data, what string) error {
	d.hog = make([][]float64, 0, len(d.img))
	d.slope = make([]float64, 0, len(d.img))
	d.moments = make([]moments.Moments, 0, len(d.img))
	prog := progress.New(s.o.Progress, s.log, what, float64(len(d.img)), 30*time.Second)
	opt := hog.DefaultOptions(s.size)
	err := d.batches(featureBatch, func(first int, pix [][]float32) error {
		h, err := hog.FeaturesBatch(pix, s.size, s.size, opt, runtime.GOMAXPROCS(0))
		if err != nil {
			return err
		}
		d.hog = append(d.hog, h...)
		for j, p := range pix {
			v, err := spectrum.Slope(p, s.size, spectrum.Options{Window: "hann"})
			if err != nil {
				return fmt.Errorf("power spectrum of %s: %w", d.lab[first+j].ID, err)
			}
			d.slope = append(d.slope, v)
			m, err := moments.Of(p)
			if err != nil {
				return fmt.Errorf("%s: %w", d.lab[first+j].ID, err)
			}
			d.moments = append(d.moments, m)
		}
		prog.Update(float64(first + len(pix)))
		return nil
	})
	if err != nil {
		return err
	}
	prog.Finish()
	return nil
}

// transform returns d.prep as a Loader's Prepare (on the loader's
// goroutines), and a function returning its first error.
func (d *data) transform() (func(i int, pix []float32), func() error) {
	if d.prep == nil {
		return nil, func() error { return nil }
	}
	var mu sync.Mutex
	var first error
	return func(i int, pix []float32) {
			q, err := d.prep(dataset.Image{Size: d.src.Size, Pix: pix, Label: d.src.Label(i)})
			if err == nil && len(q) != len(pix) {
				err = fmt.Errorf("transformed image has %d pixels, want %d", len(q), len(pix))
			}
			if err != nil {
				mu.Lock()
				first = cmp.Or(first, fmt.Errorf("%s: %w", d.src.Label(i).ID, err))
				mu.Unlock()
				return
			}
			copy(pix, q)
		}, func() error {
			mu.Lock()
			defer mu.Unlock()
			return first
		}
}

// batches calls fn with consecutive batches of d's pixels (raw log10 Σ,
// transformed by d.prep), one slice per image, and the index in d of the
// first.
func (d *data) batches(batch int, fn func(first int, pix [][]float32) error) error {
	prep, failed := d.transform()
	first := 0
	px := d.src.Size * d.src.Size
	return d.src.Batches(d.img, batch, dataset.Loader{Prepare: prep}, func(idx []int, x []float32) error {
		if err := failed(); err != nil {
			return err
		}
		pix := make([][]float32, len(idx))
		for j := range pix {
			pix[j] = x[j*px : (j+1)*px]
		}
		err := fn(first, pix)
		first += len(idx)
		return err
	})
}

func (d *data) where(pred func(dataset.Label) bool) *data {
	out := &data{src: d.src, prep: d.prep}
	for i, l := range d.lab {
		if pred(l) {
			out.img = append(out.img, d.img[i])
			out.lab = append(out.lab, l)
			out.hog = append(out.hog, d.hog[i])
			out.slope = append(out.slope, d.slope[i])
			out.moments = append(out.moments, d.moments[i])
		}
	}
	return out
}

// labels are the classes of d's images: 1 for Burgers, 0 otherwise.
func (d *data) labels() []int {
	y := make([]int, len(d.lab))
	for i, l := range d.lab {
		if l.Class == campaign.Burgers {
			y[i] = 1
		}
	}
	return y
}

func (d *data) index() []float64 {
	y := make([]float64, len(d.lab))
	for i, l := range d.lab {
		y[i] = l.Index
	}
	return y
}

func (d *data) ids() []string {
	s := make([]string, len(d.lab))
	for i, l := range d.lab {
		s[i] = l.ID
	}
	return s
}

// derive returns d's images transformed by f (which returns new pixels of
// the same size and must not modify its argument), with their features.
func (s *state) derive(d *data, what string, f func(pix []float32) ([]float32, error)) (*data, error) {
	return s.deriveImages(d, what, func(im dataset.Image) ([]float32, error) { return f(im.Pix) })
}

// deriveImages is derive for transformations that depend on the image's
// label (a noise stream per image). The pixels are not kept: the derived
// images are made again from the stream whenever they are read.
func (s *state) deriveImages(d *data, what string, f func(im dataset.Image) ([]float32, error)) (*data, error) {
	out := &data{src: d.src, img: d.img, lab: d.lab}
	out.prep = func(im dataset.Image) ([]float32, error) {
		if d.prep != nil {
			q, err := d.prep(im)
			if err != nil {
				return nil, err
			}
			im.Pix = q
		}
		return f(im)
	}
	return out, s.computeFeatures(out, what)
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
