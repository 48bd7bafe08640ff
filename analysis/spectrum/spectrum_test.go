package spectrum

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
)

// grf returns an n×n periodic Gaussian random field with P(k) ∝ k^−beta:
// random complex Gaussian Fourier amplitudes scaled by k^(−beta/2), inverse
// 2-D FFT (complex), real part kept (the real part of such a field has the
// same isotropic spectrum shape).
func grf(n int, beta float64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	f := make([]complex128, n*n)
	for iy := 0; iy < n; iy++ {
		ky := iy
		if ky >= n/2 {
			ky -= n
		}
		for ix := 0; ix < n; ix++ {
			kx := ix
			if kx >= n/2 {
				kx -= n
			}
			k := math.Hypot(float64(kx), float64(ky))
			if k == 0 {
				continue
			}
			a := math.Pow(k, -beta/2)
			f[iy*n+ix] = complex(a*rng.NormFloat64(), a*rng.NormFloat64())
		}
	}
	t := fourier.NewCmplxFFT(n)
	buf := make([]complex128, n)
	for y := 0; y < n; y++ {
		t.Sequence(f[y*n:(y+1)*n], f[y*n:(y+1)*n])
	}
	for x := 0; x < n; x++ {
		for y := 0; y < n; y++ {
			buf[y] = f[y*n+x]
		}
		t.Sequence(buf, buf)
		for y := 0; y < n; y++ {
			f[y*n+x] = buf[y]
		}
	}
	out := make([]float32, n*n)
	for i, c := range f {
		out[i] = float32(real(c))
	}
	return out
}

func quadrant(img []float32, n int) []float32 {
	h := n / 2
	out := make([]float32, h*h)
	for y := 0; y < h; y++ {
		copy(out[y*h:(y+1)*h], img[y*n:y*n+h])
	}
	return out
}

var betas = []float64{2, 2.67, 3, 3.5}

const nReal = 4 // realisations averaged per case

// TestSlopePeriodic: periodic 256² fields, no window (default range
// 2 ≤ k ≤ 64) and Hann window (3 ≤ k ≤ 64); mean slope over 4 realisations
// within ±0.05 of −β.
func TestSlopePeriodic(t *testing.T) {
	for _, beta := range betas {
		var mean, worst, meanHann float64
		for r := 0; r < nReal; r++ {
			img := grf(256, beta, uint64(100*beta)+uint64(r))
			s, err := Slope(img, 256, Options{})
			if err != nil {
				t.Fatal(err)
			}
			sh, err := Slope(img, 256, Options{Window: "hann"})
			if err != nil {
				t.Fatal(err)
			}
			mean += s / nReal
			meanHann += sh / nReal
			worst = math.Max(worst, math.Abs(s+beta))
		}
		t.Logf("periodic β=%.2f: mean slope %.4f (error %+.4f), worst single %.4f; hann %.4f (error %+.4f)", beta, mean, mean+beta, worst, meanHann, meanHann+beta)
		if math.Abs(mean+beta) > 0.05 {
			t.Errorf("β=%.2f: slope %.4f, want %.4f ± 0.05", beta, mean, -beta)
		}
		if math.Abs(meanHann+beta) > 0.05 {
			t.Errorf("β=%.2f hann: slope %.4f, want %.4f ± 0.05", beta, meanHann, -beta)
		}
	}
}

// TestSlopeQuadrant: 256² quadrants of 512² periodic fields (not periodic),
// Hann window, default range 3 ≤ k ≤ 64; mean over 8 realisations within
// ±0.05. The
// unwindowed result is logged to show why the window is needed.
func TestSlopeQuadrant(t *testing.T) {
	for _, beta := range betas {
		var mean, meanNone float64
		const nq = 8
		for r := 0; r < nq; r++ {
			q := quadrant(grf(512, beta, uint64(1000*beta)+uint64(r)), 512)
			s, err := Slope(q, 256, Options{Window: "hann"})
			if err != nil {
				t.Fatal(err)
			}
			s0, err := Slope(q, 256, Options{Window: "none"})
			if err != nil {
				t.Fatal(err)
			}
			mean += s / nq
			meanNone += s0 / nq
		}
		t.Logf("quadrant β=%.2f: hann slope %.4f (error %+.4f); no window %.4f (error %+.4f)", beta, mean, mean+beta, meanNone, meanNone+beta)
		if math.Abs(mean+beta) > 0.05 {
			t.Errorf("β=%.2f hann: slope %.4f, want %.4f ± 0.05", beta, mean, -beta)
		}
	}
}

func TestShellsErrors(t *testing.T) {
	if _, _, err := Shells(make([]float32, 10), 4, "none"); err == nil {
		t.Error("wrong pixel count accepted")
	}
	if _, _, err := Shells(make([]float32, 16), 4, "tukey"); err == nil {
		t.Error("unknown window accepted")
	}
	if _, err := Slope(make([]float32, 64*64), 64, Options{}); err == nil {
		t.Error("constant image accepted")
	}
	if _, err := Slope(grf(64, 3, 1), 64, Options{KMin: 5, KMax: 4}); err == nil {
		t.Error("empty range accepted")
	}
	if _, err := Log10([]float32{1, 0}); err == nil {
		t.Error("log10 of 0 accepted")
	}
}

// TestShellsPowerLaw: S/2 shells, each abscissa within its integer shell.
func TestShellsPowerLaw(t *testing.T) {
	k, p, err := Shells(grf(128, 3, 7), 128, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(k) != 64 || len(p) != 64 {
		t.Fatalf("got %d shells", len(k))
	}
	for i := range k {
		if math.Abs(k[i]-float64(i+1)) > 0.5 {
			t.Fatalf("shell %d mean k %g", i+1, k[i])
		}
	}
}

func TestLinearFit(t *testing.T) {
	a, b := LinearFit([]float64{0, 1, 2, 3}, []float64{1, 3, 5, 7})
	if math.Abs(a-2) > 1e-12 || math.Abs(b-1) > 1e-12 {
		t.Errorf("got a=%g b=%g", a, b)
	}
}

func TestThreshold(t *testing.T) {
	scores := []float64{0.1, 0.4, 0.35, 0.8, 0.9, 0.2}
	labels := []int{0, 0, 1, 1, 1, 0}
	th, s := Threshold(scores, labels)
	if s != 1 || !(th > 0.2 && th < 0.35) {
		t.Errorf("got t=%g sign=%d", th, s)
	}
	// Reversed labels flip the sign.
	for i := range labels {
		labels[i] = 1 - labels[i]
	}
	th, s = Threshold(scores, labels)
	if s != -1 || !(th > 0.2 && th < 0.35) {
		t.Errorf("reversed: got t=%g sign=%d", th, s)
	}
	// Perfectly separable case gives accuracy 1.
	sc := []float64{5, 1, 2, 6, 7}
	lb := []int{0, 1, 1, 0, 0}
	th, s = Threshold(sc, lb)
	for i := range sc {
		pred := 0
		if float64(s)*(sc[i]-th) > 0 {
			pred = 1
		}
		if pred != lb[i] {
			t.Errorf("separable: misclassified %d (t=%g sign=%d)", i, th, s)
		}
	}
	if _, s := Threshold([]float64{1}, []int{2}); s != 0 {
		t.Error("bad label accepted")
	}
}
