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
	img  []int                     // images of src
	lab  []dataset.Label           // their labels
	prep func(pix []float32) error // applied to the raw pixels when read (nil: none)

	hog   [][]float64
	slope []float64
}

// featureBatch is the number of images whose features are computed at once.
const featureBatch = 64

// computeFeatures computes the features of d's images, reporting progress
// under the given name.
func (s *state) computeFeatures(d *data, what string) error {
	d.hog = make([][]float64, 0, len(d.img))
	d.slope = make([]float64, 0, len(d.img))
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

// batches calls fn with consecutive batches of d's pixels (raw log10 Σ,
// transformed by d.prep), one slice per image, and the index in d of the
// first.
func (d *data) batches(batch int, fn func(first int, pix [][]float32) error) error {
	var mu sync.Mutex
	var prepErr error
	ld := dataset.Loader{}
	if d.prep != nil {
		ld.Prepare = func(pix []float32) {
			if err := d.prep(pix); err != nil {
				mu.Lock()
				prepErr = cmp.Or(prepErr, err)
				mu.Unlock()
			}
		}
	}
	first := 0
	px := d.src.Size * d.src.Size
	return d.src.Batches(d.img, batch, ld, func(idx []int, x []float32) error {
		mu.Lock()
		err := prepErr
		mu.Unlock()
		if err != nil {
			return err
		}
		pix := make([][]float32, len(idx))
		for j := range pix {
			pix[j] = x[j*px : (j+1)*px]
		}
		err = fn(first, pix)
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

// transform returns d.prep as a function without an error, for the CNN:
// d.prep's errors are found when the features are computed, before.
func (d *data) transform() func([]float32) {
	if d.prep == nil {
		return nil
	}
	return func(pix []float32) { _ = d.prep(pix) }
}

// derive returns d's images transformed by f (which returns new pixels of
// the same size and must not modify its argument), with their features.
func (s *state) derive(d *data, what string, f func(pix []float32) ([]float32, error)) (*data, error) {
	out := &data{src: d.src, img: d.img, lab: d.lab}
	out.prep = func(pix []float32) error {
		if d.prep != nil {
			if err := d.prep(pix); err != nil {
				return err
			}
		}
		q, err := f(pix)
		if err != nil {
			return err
		}
		copy(pix, q)
		return nil
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
