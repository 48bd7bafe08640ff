// Package moments computes the first four moments of the distribution of
// an image's pixel values — for a column-density map in log10 Σ, the
// moments of the log-Σ PDF, the simplest statistics a classifier of the
// turbulence could use.
package moments

import (
	"errors"
	"fmt"
	"math"
)

// Moments are the first four moments of a set of values, in the values'
// unit (log10 Σ for our images) for Mean and Std, dimensionless for the
// others.
type Moments struct {
	Mean float64 // arithmetic mean
	// Std is the population standard deviation, √(m₂) (numpy's std with
	// ddof = 0).
	Std float64
	// Skewness is the Fisher–Pearson coefficient m₃/m₂^{3/2}, without
	// the small-sample correction (scipy.stats.skew with bias=True).
	Skewness float64
	// Kurtosis is the excess kurtosis m₄/m₂² − 3, 0 for a Gaussian, without
	// the small-sample correction (scipy.stats.kurtosis with fisher=True,
	// bias=True).
	Kurtosis float64
}

// Names are the names of the moments in the order of Moments.Vector.
var Names = [4]string{"mean", "std", "skewness", "kurtosis"}

// Vector returns the moments as {Mean, Std, Skewness, Kurtosis}.
func (m Moments) Vector() [4]float64 { return [4]float64{m.Mean, m.Std, m.Skewness, m.Kurtosis} }

// Of returns the moments of pix, computed in float64 in two passes (the
// central moments about the mean computed first). It fails on no values,
// a non-finite value, or constant values (whose skewness and kurtosis are
// undefined).
func Of(pix []float32) (Moments, error) {
	if len(pix) == 0 {
		return Moments{}, errors.New("moments: no values")
	}
	var sum float64
	for i, v := range pix {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return Moments{}, fmt.Errorf("moments: value %d is %v", i, v)
		}
		sum += float64(v)
	}
	n := float64(len(pix))
	mean := sum / n
	var m2, m3, m4 float64
	for _, v := range pix {
		d := float64(v) - mean
		d2 := d * d
		m2 += d2
		m3 += d2 * d
		m4 += d2 * d2
	}
	m2, m3, m4 = m2/n, m3/n, m4/n
	if !(m2 > 0) {
		return Moments{}, fmt.Errorf("moments: %d constant values (%g): no skewness or kurtosis", len(pix), mean)
	}
	return Moments{Mean: mean, Std: math.Sqrt(m2), Skewness: m3 / math.Pow(m2, 1.5), Kurtosis: m4/(m2*m2) - 3}, nil
}
