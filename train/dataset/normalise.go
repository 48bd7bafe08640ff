package dataset

import (
	"fmt"
	"math"
	"strings"
)

// Normalisation is how a run scales the pixels of an image (log10 Σ)
// before the network sees them. It is chosen once, saved with the run and
// applied alike in training, evaluation, embedding and saliency.
type Normalisation string

// The normalisations.
const (
	// TrainStats standardises every image by the mean and standard
	// deviation of all the training split's pixels (Stats): the amplitude
	// of the fluctuations of log Σ reaches the network.
	TrainStats Normalisation = "train"
	// PerImageStats standardises each image by its own mean and standard
	// deviation (PerImage): the network sees the morphology only.
	PerImageStats Normalisation = "image"
	// Keras8 is the talk's images as Keras read them: log Σ min–max scaled
	// per image to 8-bit grey levels (a PNG), then divided by 255 (Grey8).
	// Like PerImageStats it removes the amplitude, and it quantises.
	Keras8 Normalisation = "keras8"
)

// Normalisations are the valid values, in the order of the documentation.
var Normalisations = []Normalisation{TrainStats, PerImageStats, Keras8}

// ParseNormalisation returns the normalisation named s.
func ParseNormalisation(s string) (Normalisation, error) {
	for _, n := range Normalisations {
		if string(n) == s {
			return n, nil
		}
	}
	names := make([]string, len(Normalisations))
	for i, n := range Normalisations {
		names[i] = string(n)
	}
	return "", fmt.Errorf("unknown normalisation %q (want %s)", s, strings.Join(names, ", "))
}

// Describe says in words what n does.
func (n Normalisation) Describe() string {
	switch n {
	case TrainStats:
		return "training-set standardisation"
	case PerImageStats:
		return "per-image standardisation"
	case Keras8:
		return "8-bit grey per image, /255 (Keras)"
	}
	return string(n)
}

// UsesStats reports whether Apply needs the training statistics.
func (n Normalisation) UsesStats() bool { return n == TrainStats }

// Apply normalises pix in place; st are the training statistics (used by
// TrainStats only). It panics on an unknown normalisation, or for
// TrainStats if st is unset (Stats.Apply).
func (n Normalisation) Apply(pix []float32, st Stats) {
	switch n {
	case TrainStats:
		st.Apply(pix)
	case PerImageStats:
		PerImage(pix)
	case Keras8:
		Grey8(pix)
	default:
		panic(fmt.Sprintf("dataset: unknown normalisation %q", n))
	}
}

// Grey8 scales pix in place as an 8-bit grey image read back by Keras: the
// range [min, max] of the image maps to the grey levels 0–255, rounded to
// the nearest level, and each level g becomes g/255 in [0, 1]. A constant
// image becomes all 0.
func Grey8(pix []float32) {
	if len(pix) == 0 {
		return
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range pix {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
	}
	if !(hi > lo) {
		clear(pix)
		return
	}
	scale := 255 / (hi - lo)
	for i, v := range pix {
		pix[i] = float32(math.Round((float64(v)-lo)*scale) / 255)
	}
}
