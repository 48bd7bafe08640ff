package dataset

import (
	"errors"
	"fmt"
	"math"

	"github.com/turbindex/turbindex/campaign"
)

// Stats are the mean and standard deviation of the pixels of a set of
// images, in the pixels' unit (log10(Σ / (g cm⁻²)) for raw images). They are
// saved with a model so that the same standardisation applies at inference.
type Stats struct {
	Mean float64 `json:"mean"` // mean pixel value
	Std  float64 `json:"std"`  // population standard deviation of the pixels, > 0
}

// ComputeStats returns the mean and standard deviation of every pixel of the
// training split of s (campaign.Train), computed in float64 in two passes.
// No other split contributes. It fails if s is invalid (Validate), has no
// training images, holds a non-finite pixel, or its training pixels are all
// equal.
func ComputeStats(s *Set) (Stats, error) {
	if err := s.Validate(); err != nil {
		return Stats{}, err
	}
	train, err := s.Split(campaign.Train)
	if err != nil {
		return Stats{}, fmt.Errorf("standardisation statistics: %w", err)
	}
	var sum float64
	var n int
	for _, im := range train {
		var acc float64
		for _, v := range im.Pix {
			acc += float64(v)
		}
		sum += acc
		n += len(im.Pix)
	}
	mean := sum / float64(n)
	if math.IsNaN(mean) || math.IsInf(mean, 0) {
		return Stats{}, errors.New("standardisation statistics: the training split holds a non-finite pixel")
	}
	var ss float64
	for _, im := range train {
		var acc float64
		for _, v := range im.Pix {
			d := float64(v) - mean
			acc += d * d
		}
		ss += acc
	}
	st := Stats{Mean: mean, Std: math.Sqrt(ss / float64(n))}
	if !(st.Std > 0) {
		return Stats{}, fmt.Errorf("standardisation statistics: the %d training pixels are all %g: no variance to scale by", n, mean)
	}
	return st, nil
}

// Apply standardises pix in place: each value v becomes (v − Mean)/Std,
// computed in float64. It panics unless Std is positive and finite.
func (st Stats) Apply(pix []float32) {
	if !(st.Std > 0) || math.IsInf(st.Std, 1) {
		panic(fmt.Sprintf("dataset: Stats.Apply with standard deviation %g", st.Std))
	}
	for i, v := range pix {
		pix[i] = float32((float64(v) - st.Mean) / st.Std)
	}
}

// PerImage standardises pix in place by its own mean and population standard
// deviation, computed in float64: afterwards the image has mean 0 and
// standard deviation 1 (or is all 0 if it was constant).
//
// This removes the amplitude information: the spread of log Σ, which is
// larger for Kolmogorov (n = 11/3) than for Burgers (n = 4) turbulence, no
// longer reaches the model, which can then only use the morphology. That may
// transfer better to real clouds, at the cost of part of the signal (see
// docs/SIGNAL.md); the global standardisation of
// ComputeStats keeps it.
func PerImage(pix []float32) {
	if len(pix) == 0 {
		return
	}
	var sum float64
	for _, v := range pix {
		sum += float64(v)
	}
	mean := sum / float64(len(pix))
	var ss float64
	for _, v := range pix {
		d := float64(v) - mean
		ss += d * d
	}
	std := math.Sqrt(ss / float64(len(pix)))
	scale := 1.0
	if std > 0 {
		scale = 1 / std
	}
	for i, v := range pix {
		pix[i] = float32((float64(v) - mean) * scale)
	}
}
