// Package spectrum is the physicist's baseline for turbindex: the slope of
// the azimuthally averaged 2-D power spectrum of a column-density image,
// used as a single feature for classification (Threshold) and regression
// (LinearFit) of the driving parameter n.
//
// # Conventions
//
// The baseline is meant to be run on log10 Σ images (Log10 converts a linear
// Σ image); the linear-Σ variant is obtained by passing Σ itself. In both
// cases the image mean is subtracted before anything else, so the k = 0 mode
// is empty, and the spectrum is that of the fluctuations.
//
// Wavenumbers are integers in units of the fundamental 1/S of an S×S image.
// The 2-D transform is gonum's real FFT along rows followed by its complex
// FFT along columns; |F|² is averaged in integer shells
// k-½ ≤ |k| < k+½ for k = 1 … S/2 (shells beyond S/2 are incomplete circles
// and are dropped). The abscissa returned for each shell is the mean |k| of
// the modes it holds, which removes most of the shell-binning bias for steep
// spectra at low k.
//
// The slope is the least-squares fit of log10 P against log10 k over shells
// KMin ≤ k ≤ KMax. The default range is 2 ≤ k ≤ S/4: shell 1 holds only ~8
// modes (its average scatters by ~35 % per image) and is most affected by the
// window, while above S/4 the spectrum is shaped by the pixel window,
// aliasing and the resampling the images went through (zoom, projection
// interpolation), not by the turbulence.
//
// # Windows
//
// Images of whole periodic boxes are periodic and need no window
// (Window "none"). Cut-outs (a quadrant, a zoomed crop) are not: their edge
// discontinuities leak power ∝ k⁻² along the axes and flatten steep spectra.
// For those use Window "hann": a separable 2-D Hann taper applied after mean
// subtraction, with the power normalised by the mean squared window. The Hann
// window's own transform spans ±2 fundamental modes, so shells ≤ 2 mix with
// the strong largest-scale modes (including those larger than the cut-out);
// for steep spectra (β = 3.5) that steepens a fit from k = 2 by ≈ 0.07, from
// k = 3 by ≈ 0.03. The default KMin is therefore 3 with the Hann window.
package spectrum

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/dsp/fourier"
)

// Options select the fit range and window. Zero values select the defaults
// KMin = 2 (3 with the Hann window), KMax = S/4 and no window.
type Options struct {
	KMin, KMax float64
	Window     string // "none" (or "") | "hann"
}

// Result is a full fit: slope and intercept of log10 P = Intercept +
// Slope·log10 k, the number of shells fitted and the shell arrays.
type Result struct {
	Slope, Intercept float64
	NFit             int
	K, Power         []float64
}

// Log10 returns log10 of a linear Σ image; values ≤ 0 are an error.
func Log10(img []float32) ([]float32, error) {
	out := make([]float32, len(img))
	for i, v := range img {
		if !(v > 0) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("spectrum: pixel %d is %v, cannot take log10", i, v)
		}
		out[i] = float32(math.Log10(float64(v)))
	}
	return out, nil
}

func window(name string, size int) ([]float64, error) {
	switch name {
	case "", "none":
		return nil, nil
	case "hann":
		w := make([]float64, size)
		for i := range w {
			// Symmetric Hann over the S pixels (zero at both ends is avoided by
			// the (i+½)/S sampling, so no pixel is wasted).
			w[i] = 0.5 * (1 - math.Cos(2*math.Pi*(float64(i)+0.5)/float64(size)))
		}
		return w, nil
	}
	return nil, fmt.Errorf("spectrum: unknown window %q (want \"none\" or \"hann\")", name)
}

// Shells returns the azimuthally averaged power spectrum of the S×S image
// img (row-major, size = S): k[i] is the mean |k| of the modes in shell i+1
// (in units of 1/S) and power[i] their mean |F|²/(S²·⟨w²⟩), for shells
// 1 … S/2. The image mean is subtracted first.
func Shells(img []float32, size int, win string) (k, power []float64, err error) {
	if size < 4 {
		return nil, nil, fmt.Errorf("spectrum: image size %d too small (need ≥ 4)", size)
	}
	if len(img) != size*size {
		return nil, nil, fmt.Errorf("spectrum: %d pixels for a %d×%d image", len(img), size, size)
	}
	w, err := window(win, size)
	if err != nil {
		return nil, nil, err
	}
	var mean float64
	for i, v := range img {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, nil, fmt.Errorf("spectrum: pixel %d is %v", i, v)
		}
		mean += f
	}
	mean /= float64(len(img))
	S := size
	nh := S/2 + 1
	// Real FFT along rows: coef[y*nh+kx], kx = 0 … S/2.
	coef := make([]complex128, S*nh)
	rft := fourier.NewFFT(S)
	row := make([]float64, S)
	w2 := 1.0
	if w != nil {
		var s float64
		for _, a := range w {
			s += a * a
		}
		s /= float64(S)
		w2 = s * s // mean of the separable 2-D window squared
	}
	for y := 0; y < S; y++ {
		for x := 0; x < S; x++ {
			v := float64(img[y*S+x]) - mean
			if w != nil {
				v *= w[x] * w[y]
			}
			row[x] = v
		}
		rft.Coefficients(coef[y*nh:(y+1)*nh], row)
	}
	// Complex FFT along columns.
	cft := fourier.NewCmplxFFT(S)
	col := make([]complex128, S)
	nShell := S / 2
	sumP := make([]float64, nShell+1)
	sumK := make([]float64, nShell+1)
	sumW := make([]float64, nShell+1)
	norm := 1 / (float64(S) * float64(S) * w2)
	for kx := 0; kx < nh; kx++ {
		for y := 0; y < S; y++ {
			col[y] = coef[y*nh+kx]
		}
		cft.Coefficients(col, col)
		// Modes kx and −kx carry the same power (real input): count the
		// interior half-plane columns twice.
		mult := 2.0
		if kx == 0 || (S%2 == 0 && kx == S/2) {
			mult = 1
		}
		for iy := 0; iy < S; iy++ {
			ky := iy
			if ky >= (S+1)/2 {
				ky -= S
			}
			kk := math.Hypot(float64(kx), float64(ky))
			sh := int(math.Floor(kk + 0.5))
			if sh < 1 || sh > nShell {
				continue
			}
			c := col[iy]
			p := (real(c)*real(c) + imag(c)*imag(c)) * norm
			sumP[sh] += mult * p
			sumK[sh] += mult * kk
			sumW[sh] += mult
		}
	}
	k = make([]float64, nShell)
	power = make([]float64, nShell)
	for sh := 1; sh <= nShell; sh++ {
		k[sh-1] = sumK[sh] / sumW[sh]
		power[sh-1] = sumP[sh] / sumW[sh]
	}
	return k, power, nil
}

// Fit computes the shells and fits log10 P against log10 k over
// [o.KMin, o.KMax] (defaults 2, or 3 with the Hann window, and S/4; the
// bounds apply to the integer shell number).
func Fit(img []float32, size int, o Options) (Result, error) {
	k, p, err := Shells(img, size, o.Window)
	if err != nil {
		return Result{}, err
	}
	kmin, kmax := o.KMin, o.KMax
	if kmin == 0 {
		kmin = 2
		if o.Window == "hann" {
			kmin = 3
		}
	}
	if kmax == 0 {
		kmax = float64(size) / 4
	}
	if kmin < 1 || kmax < kmin {
		return Result{}, fmt.Errorf("spectrum: bad fit range [%g, %g]", kmin, kmax)
	}
	var lx, ly []float64
	for i := range k {
		sh := float64(i + 1)
		if sh < kmin || sh > kmax {
			continue
		}
		if !(p[i] > 0) {
			return Result{}, fmt.Errorf("spectrum: zero power in shell %d (constant image?)", i+1)
		}
		lx = append(lx, math.Log10(k[i]))
		ly = append(ly, math.Log10(p[i]))
	}
	if len(lx) < 2 {
		return Result{}, fmt.Errorf("spectrum: fit range [%g, %g] holds %d shells of a %d-pixel image (need ≥ 2)", kmin, kmax, len(lx), size)
	}
	a, b := LinearFit(lx, ly)
	return Result{Slope: a, Intercept: b, NFit: len(lx), K: k, Power: p}, nil
}

// Slope returns the fitted log-log slope of the power spectrum (≈ −β for
// P ∝ k^−β).
func Slope(img []float32, size int, o Options) (float64, error) {
	r, err := Fit(img, size, o)
	return r.Slope, err
}

// LinearFit is the ordinary least-squares fit y ≈ a·x + b (a the slope, b the
// intercept). With fewer than two points or constant x it returns a = 0 and
// b = mean(y). Mismatched lengths use the shorter.
func LinearFit(x, y []float64) (a, b float64) {
	n := len(x)
	if len(y) < n {
		n = len(y)
	}
	if n == 0 {
		return 0, 0
	}
	var mx, my float64
	for i := 0; i < n; i++ {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxx, sxy float64
	for i := 0; i < n; i++ {
		dx := x[i] - mx
		sxx += dx * dx
		sxy += dx * (y[i] - my)
	}
	if sxx == 0 {
		return 0, my
	}
	a = sxy / sxx
	return a, my - a*mx
}

// Threshold chooses the one-feature classifier that maximises training
// accuracy: a score s is predicted as class 1 when sign·(s − t) > 0 and as
// class 0 otherwise (labels must be 0 or 1). Candidate thresholds are the
// midpoints between consecutive distinct scores plus one below the minimum
// and one above the maximum; ties in accuracy go to the smallest threshold and
// then to sign = +1, so the result is deterministic. Invalid input (empty,
// mismatched lengths, labels other than 0/1, NaN scores) returns t = NaN,
// sign = 0.
func Threshold(scores []float64, labels []int) (t float64, sign int) {
	n := len(scores)
	if n == 0 || len(labels) != n {
		return math.NaN(), 0
	}
	idx := make([]int, n)
	var pos int
	for i := range idx {
		idx[i] = i
		if math.IsNaN(scores[i]) || (labels[i] != 0 && labels[i] != 1) {
			return math.NaN(), 0
		}
		pos += labels[i]
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	// Sweep: with t below everything, sign=+1 predicts all 1 → correct = pos.
	// After passing the first m sorted scores (they become class 0 for +1),
	// correct(+1) = pos − ones_below + zeros_below; correct(−1) = n − that.
	bestT, bestS, best := 0.0, 0, -1
	try := func(tt float64, cPlus int) {
		if cPlus > best {
			best, bestT, bestS = cPlus, tt, 1
		}
		if n-cPlus > best {
			best, bestT, bestS = n-cPlus, tt, -1
		}
	}
	lo := scores[idx[0]]
	try(lo-1-math.Abs(lo)*1e-9, pos)
	c := pos
	for m := 0; m < n; m++ {
		if labels[idx[m]] == 1 {
			c--
		} else {
			c++
		}
		if m+1 < n && scores[idx[m+1]] == scores[idx[m]] {
			continue
		}
		var tt float64
		if m+1 < n {
			tt = 0.5 * (scores[idx[m]] + scores[idx[m+1]])
		} else {
			hi := scores[idx[m]]
			tt = hi + 1 + math.Abs(hi)*1e-9
		}
		try(tt, c)
	}
	return bestT, bestS
}
