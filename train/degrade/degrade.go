// Package degrade does to a column-density image what a telescope does to a
// map of the sky: it smooths it with a Gaussian beam, adds a smooth
// background gradient and adds noise. The analysis uses it to ask whether a
// classifier survives observation, and training uses it to augment images.
//
// An image is size × size pixels in row-major order (row 0 at the top), each
// pixel log10(Σ / (g cm⁻²)) — the raw images of package dataset, before any
// standardisation. The degradations are applied in the order of the light's
// path, each optional:
//
//  1. Beam: Σ = 10^pixel is convolved with a circular Gaussian of full width
//     at half maximum FWHM pixels, σ = FWHM / (2√(2 ln 2)), and the
//     logarithm taken again. The beam acts on Σ, not on its logarithm,
//     because a telescope averages photons (mass), not logarithms. The
//     kernel is scipy.ndimage.gaussian_filter's: separable, weights
//     exp(−x²/2σ²) normalised to sum 1, truncated at radius
//     ⌊4σ + ½⌋ pixels, boundaries by mode "reflect" (… c b a | a b c …),
//     since a cut-out of a map has edges, and is not periodic.
//  2. Gradient: a plane is added to log Σ (a multiplicative background in Σ,
//     as from an envelope or extinction), zero at the image centre, rising
//     along the direction Angle (radians; 0 towards increasing column, π/2
//     towards increasing row) with a slope of Gradient·Ref/(size − 1) per
//     pixel: for an axis-aligned direction the two opposite edges differ by
//     exactly Gradient·Ref.
//  3. Noise: independent Gaussian noise of standard deviation Ref/SNR is
//     added to every pixel of log Σ. Ref is the reference amplitude of the
//     log-Σ fluctuations: by default the population standard deviation of
//     the undegraded image's pixels (a per-image signal-to-noise), or a
//     fixed value in dex (a telescope whose noise does not depend on the
//     cloud). SNR = +Inf (or 0 in Params) adds no noise.
//
// Noise is drawn from a PCG generator seeded by (seed, stream): the caller
// gives each image its own stream (for instance a hash of its label), so
// results do not depend on the order in which images are processed or on
// how many goroutines process them.
package degrade

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// FWHMPerSigma is the full width at half maximum of a Gaussian in units of
// its standard deviation, 2√(2 ln 2) ≈ 2.3548.
var FWHMPerSigma = 2 * math.Sqrt(2*math.Ln2)

// Truncate is the radius of the beam's kernel in standard deviations
// (scipy.ndimage.gaussian_filter's default, truncate=4.0).
const Truncate = 4.0

// Params are the strengths of the degradations of one image. The zero value
// leaves the image unchanged.
type Params struct {
	// BeamFWHM is the beam's full width at half maximum, pixels; 0: none.
	BeamFWHM float64 `json:"beam_fwhm,omitempty"`
	// Gradient is the background gradient's amplitude across the image, in
	// units of Ref (see the package comment); 0: none.
	Gradient float64 `json:"gradient,omitempty"`
	// Angle is the direction in which the gradient rises, radians (0: to
	// the right, π/2: downwards).
	Angle float64 `json:"angle,omitempty"`
	// SNR is the signal-to-noise ratio of the log-Σ fluctuations: the noise
	// has standard deviation Ref/SNR; 0 or +Inf: no noise.
	SNR float64 `json:"snr,omitempty"`
	// Ref is the reference amplitude of log Σ, dex, for Gradient and SNR;
	// 0: the standard deviation of the undegraded image's own pixels.
	Ref float64 `json:"ref,omitempty"`
}

// Validate reports the first strength out of its domain.
func (p Params) Validate() error {
	switch {
	case !(p.BeamFWHM >= 0) || math.IsInf(p.BeamFWHM, 0):
		return fmt.Errorf("beam FWHM %v pixels: want a finite value ≥ 0", p.BeamFWHM)
	case math.IsNaN(p.Gradient) || math.IsInf(p.Gradient, 0):
		return fmt.Errorf("gradient amplitude %v: want a finite number", p.Gradient)
	case math.IsNaN(p.Angle) || math.IsInf(p.Angle, 0):
		return fmt.Errorf("gradient angle %v: want a finite number of radians", p.Angle)
	case !(p.SNR >= 0):
		return fmt.Errorf("signal-to-noise %v: want > 0 (0 or +Inf: no noise)", p.SNR)
	case !(p.Ref >= 0) || math.IsInf(p.Ref, 0):
		return fmt.Errorf("reference amplitude %v dex: want a finite value ≥ 0 (0: the image's own)", p.Ref)
	}
	return nil
}

// noisy reports whether p adds noise.
func (p Params) noisy() bool { return p.SNR > 0 && !math.IsInf(p.SNR, 1) }

// Apply degrades pix (size × size log10 Σ values) in place as p says, with
// the noise drawn from (seed, stream). It fails, changing nothing, if p is
// invalid or pix is not size² values.
func (p Params) Apply(pix []float32, size int, seed, stream uint64) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if size < 1 || len(pix) != size*size {
		return fmt.Errorf("degrade: %d pixels are not a %d×%d image", len(pix), size, size)
	}
	ref := p.Ref
	if ref == 0 && (p.Gradient != 0 || p.noisy()) {
		ref = StdDev(pix)
	}
	if p.BeamFWHM > 0 {
		Beam(pix, size, p.BeamFWHM)
	}
	if p.Gradient != 0 {
		Gradient(pix, size, p.Gradient*ref, p.Angle)
	}
	if p.noisy() {
		Noise(pix, ref/p.SNR, seed, stream)
	}
	return nil
}

// StdDev returns the population standard deviation of pix, computed in
// float64 in two passes (0 for an empty slice).
func StdDev(pix []float32) float64 {
	if len(pix) == 0 {
		return 0
	}
	var s float64
	for _, v := range pix {
		s += float64(v)
	}
	mean := s / float64(len(pix))
	var ss float64
	for _, v := range pix {
		d := float64(v) - mean
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(pix)))
}

// Kernel returns the normalised 1-D Gaussian weights of standard deviation
// sigma pixels at offsets −r … r, r = ⌊Truncate·σ + ½⌋ (scipy's
// _gaussian_kernel1d).
func Kernel(sigma float64) []float64 {
	r := int(Truncate*sigma + 0.5)
	w := make([]float64, 2*r+1)
	var sum float64
	for i := range w {
		x := float64(i - r)
		w[i] = math.Exp(-0.5 * x * x / (sigma * sigma))
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}

// reflect maps an index of the infinite reflected extension of a line of n
// samples (… c b a | a b c … x y z | z y x …) to [0, n): the extension is
// periodic with period 2n.
func reflect(i, n int) int {
	i %= 2 * n
	if i < 0 {
		i += 2 * n
	}
	if i >= n {
		i = 2*n - 1 - i
	}
	return i
}

// Beam smooths pix (size × size log10 Σ) in place with a Gaussian beam of
// full width at half maximum fwhm pixels applied to Σ = 10^pixel, with
// reflecting boundaries (see the package comment). fwhm ≤ 0 leaves pix
// unchanged.
func Beam(pix []float32, size int, fwhm float64) {
	if fwhm <= 0 {
		return
	}
	w := Kernel(fwhm / FWHMPerSigma)
	r := len(w) / 2
	sig := make([]float64, len(pix))
	for i, v := range pix {
		sig[i] = math.Pow(10, float64(v))
	}
	tmp := make([]float64, len(pix))
	idx := make([]int, size+2*r) // reflected index of each tap position
	for j := range idx {
		idx[j] = reflect(j-r, size)
	}
	// Rows (along the column index), then columns: scipy filters axis 0
	// then axis 1; each pass is exact in float64, the order changes only
	// rounding.
	for row := range size {
		line := sig[row*size : (row+1)*size]
		for c := range size {
			var s float64
			for k, wk := range w {
				s += wk * line[idx[c+k]]
			}
			tmp[row*size+c] = s
		}
	}
	for c := range size {
		for row := range size {
			var s float64
			for k, wk := range w {
				s += wk * tmp[idx[row+k]*size+c]
			}
			pix[row*size+c] = float32(math.Log10(s))
		}
	}
}

// Gradient adds to pix (size × size) the plane that is zero at the image
// centre and rises by amplitude (in the pixels' unit) from one edge to the
// opposite one along the direction angle (radians; 0: increasing column,
// π/2: increasing row): pixel (r, c) gains
// amplitude·((c − m)·cos angle + (r − m)·sin angle)/(size − 1), m = (size − 1)/2.
func Gradient(pix []float32, size int, amplitude, angle float64) {
	if amplitude == 0 || size < 2 {
		return
	}
	m := float64(size-1) / 2
	gx := amplitude * math.Cos(angle) / float64(size-1)
	gy := amplitude * math.Sin(angle) / float64(size-1)
	for r := range size {
		for c := range size {
			i := r*size + c
			pix[i] = float32(float64(pix[i]) + (float64(c)-m)*gx + (float64(r)-m)*gy)
		}
	}
}

// Noise adds independent Gaussian noise of standard deviation sigma to
// every pixel, drawn from a PCG generator seeded by (seed, stream): the
// same arguments give the same noise, bit for bit.
func Noise(pix []float32, sigma float64, seed, stream uint64) {
	if sigma == 0 {
		return
	}
	r := rand.New(rand.NewPCG(seed, stream))
	for i, v := range pix {
		pix[i] = float32(float64(v) + sigma*r.NormFloat64())
	}
}

// Stream returns a noise stream for the image named by id and the integers
// parts (for instance projection, flip and quadrant, or an epoch and an
// index): a hash, so that every image has its own noise whatever the order
// of processing.
func Stream(id string, parts ...int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	var b [8]byte
	for _, p := range parts {
		binary.LittleEndian.PutUint64(b[:], uint64(p))
		h.Write(b[:])
	}
	return h.Sum64()
}
