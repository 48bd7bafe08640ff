package degrade

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

// testImage returns a size² log10 Σ image like the data's: a mean of −2.3 dex
// and fluctuations of about 0.02 dex with some large-scale structure, fixed
// by seed.
func testImage(size int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	pix := make([]float32, size*size)
	for i := range pix {
		row, col := i/size, i%size
		pix[i] = float32(-2.3 + 0.015*math.Sin(2*math.Pi*float64(row)/float64(size)+0.3) +
			0.01*math.Cos(4*math.Pi*float64(col)/float64(size)) + 0.01*r.NormFloat64())
	}
	return pix
}

// scipyPython returns a python3 that imports numpy and scipy.ndimage
// (Debian's /usr/bin/python3 first), or skips the test naming the packages.
func scipyPython(t *testing.T) string {
	t.Helper()
	var tried []string
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		out, err := exec.Command(py, "-c", "import numpy, scipy.ndimage").CombinedOutput()
		if err == nil {
			return py
		}
		tried = append(tried, fmt.Sprintf("%s: %v %s", py, err, strings.TrimSpace(lastLine(string(out)))))
	}
	t.Skipf("numpy and scipy not importable (install the Debian packages python3-numpy python3-scipy): %s", strings.Join(tried, "; "))
	return ""
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// TestBeamMatchesScipy compares Beam with
// log10(scipy.ndimage.gaussian_filter(10**x, σ, mode="reflect", truncate=4))
// in float64, for the study's FWHMs, an image smaller than the kernel
// (repeated reflections) and an odd size. The Go result is float32: the
// tolerance is 2 float32 ulps of log Σ ≈ 2.3 (5e-7).
func TestBeamMatchesScipy(t *testing.T) {
	py := scipyPython(t)
	type tc struct {
		Size int       `json:"size"`
		FWHM float64   `json:"fwhm"`
		Pix  []float64 `json:"pix"`
	}
	var cases []tc
	for i, c := range []struct {
		size int
		fwhm float64
	}{{32, 1}, {32, 2}, {32, 4}, {32, 8}, {17, 2.5}, {6, 8}} {
		pix := testImage(c.size, uint64(i+1))
		p := make([]float64, len(pix))
		for j, v := range pix {
			p[j] = float64(v)
		}
		cases = append(cases, tc{c.size, c.fwhm, p})
	}
	in, _ := json.Marshal(cases)
	script := `
import json, sys, math
import numpy as np
from scipy.ndimage import gaussian_filter
out = []
for c in json.load(sys.stdin):
    x = np.array(c["pix"], dtype=np.float64).reshape(c["size"], c["size"])
    s = c["fwhm"] / (2 * math.sqrt(2 * math.log(2)))
    out.append(np.log10(gaussian_filter(10.0**x, s, mode="reflect", truncate=4.0)).ravel().tolist())
json.dump(out, sys.stdout)
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", py, err, stderr.String())
	}
	var want [][]float64
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		pix := make([]float32, len(c.Pix))
		for j, v := range c.Pix {
			pix[j] = float32(v)
		}
		Beam(pix, c.Size, c.FWHM)
		worst, changed := 0.0, 0.0
		for j, w := range want[i] {
			worst = math.Max(worst, math.Abs(float64(pix[j])-w))
			changed = math.Max(changed, math.Abs(w-c.Pix[j]))
		}
		if worst > 5e-7 {
			t.Errorf("size %d, FWHM %g: largest difference from scipy %.3g dex", c.Size, c.FWHM, worst)
		}
		if changed < 1e-3 {
			t.Errorf("size %d, FWHM %g: the beam changed the image by only %.3g dex: the comparison proves nothing", c.Size, c.FWHM, changed)
		}
		t.Logf("size %d, FWHM %g: largest difference from scipy %.2g dex (the beam moved pixels by up to %.2g)", c.Size, c.FWHM, worst, changed)
	}
}

// TestBeamConservesMass: smoothing with reflecting boundaries conserves
// the total Σ exactly (each reflected kernel still sums to 1 over the line's
// mirrored copies, and mirror symmetry makes the column sums of the
// smoothing matrix 1), and a constant map stays constant.
func TestBeamConservesMass(t *testing.T) {
	const size = 24
	pix := testImage(size, 9)
	mass := func(p []float32) float64 {
		var s float64
		for _, v := range p {
			s += math.Pow(10, float64(v))
		}
		return s
	}
	m0 := mass(pix)
	Beam(pix, size, 4)
	if m1 := mass(pix); math.Abs(m1-m0) > 1e-6*m0 {
		t.Errorf("total Σ %.9g after the beam, %.9g before", m1, m0)
	}
	flat := make([]float32, size*size)
	for i := range flat {
		flat[i] = -2
	}
	Beam(flat, size, 8)
	for i, v := range flat {
		if math.Abs(float64(v)+2) > 1e-6 {
			t.Fatalf("constant image: pixel %d became %v", i, v)
		}
	}
}

func TestKernel(t *testing.T) {
	for _, fwhm := range []float64{1, 2, 4, 8} {
		s := fwhm / FWHMPerSigma
		w := Kernel(s)
		r := len(w) / 2
		if r != int(4*s+0.5) {
			t.Errorf("FWHM %g: radius %d, want ⌊4σ+½⌋ = %d", fwhm, r, int(4*s+0.5))
		}
		// The half maximum sits at ±FWHM/2: exp(−(FWHM/2)²/2σ²) = ½ exactly.
		if h := math.Exp(-0.5 * (fwhm / 2) * (fwhm / 2) / (s * s)); math.Abs(h-0.5) > 1e-12 {
			t.Errorf("FWHM %g: the Gaussian is %v at FWHM/2, want ½", fwhm, h)
		}
		var sum float64
		for _, v := range w {
			sum += v
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("FWHM %g: weights sum to %v", fwhm, sum)
		}
	}
}

// TestGradientExact checks the plane on a known image: a constant image
// gets exactly the ramp, and opposite edges differ by the amplitude.
func TestGradientExact(t *testing.T) {
	const size = 9
	for _, tc := range []struct {
		angle    float64
		dr, dc   int // the direction, in pixels
		wantEdge float64
	}{{0, 0, 1, 0.8}, {math.Pi / 2, 1, 0, 0.8}, {math.Pi, 0, -1, 0.8}} {
		pix := make([]float32, size*size)
		Gradient(pix, size, 0.8, tc.angle)
		for r := range size {
			for c := range size {
				want := 0.8 * ((float64(c)-4)*math.Cos(tc.angle) + (float64(r)-4)*math.Sin(tc.angle)) / 8
				if math.Abs(float64(pix[r*size+c])-want) > 1e-7 {
					t.Fatalf("angle %g: pixel (%d,%d) = %v, want %v", tc.angle, r, c, pix[r*size+c], want)
				}
			}
		}
		// Centre 0; the edge the gradient points to is +0.4, the other −0.4.
		centre := pix[4*size+4]
		hi := pix[(4+4*tc.dr)*size+4+4*tc.dc]
		lo := pix[(4-4*tc.dr)*size+4-4*tc.dc]
		if centre != 0 || math.Abs(float64(hi-lo)-tc.wantEdge) > 1e-7 {
			t.Errorf("angle %g: centre %v, edges %v − %v = %v, want %v", tc.angle, centre, hi, lo, hi-lo, tc.wantEdge)
		}
	}
	// Through Params: the amplitude is in units of the image's own
	// deviation; the plane is added to whatever is there.
	const n = 16
	img := testImage(n, 3)
	ref := StdDev(img)
	got := append([]float32(nil), img...)
	if err := (Params{Gradient: 2, Angle: 0}).Apply(got, n, 1, 1); err != nil {
		t.Fatal(err)
	}
	for r := range n {
		d0 := float64(got[r*n]) - float64(img[r*n])
		d1 := float64(got[r*n+n-1]) - float64(img[r*n+n-1])
		if math.Abs(d1-d0-2*ref) > 1e-6 {
			t.Fatalf("row %d: the edges gained %v and %v, want a difference of 2σ = %v", r, d0, d1, 2*ref)
		}
	}
}

// TestNoiseLevel: the added noise has mean 0 and standard deviation Ref/SNR
// within its sampling error (4 standard errors: for 2¹⁶ pixels the standard
// deviation's relative standard error is 1/√(2N) = 0.28 %), for a
// per-image and a fixed reference; it is the same for the same stream and
// different for another.
func TestNoiseLevel(t *testing.T) {
	const size = 256
	N := float64(size * size)
	img := testImage(size, 4)
	own := StdDev(img)
	for _, tc := range []struct {
		p     Params
		sigma float64
	}{
		{Params{SNR: 3}, own / 3},
		{Params{SNR: 10}, own / 10},
		{Params{SNR: 100}, own / 100},
		{Params{SNR: 30, Ref: 0.05}, 0.05 / 30},
	} {
		got := append([]float32(nil), img...)
		if err := tc.p.Apply(got, size, 7, 11); err != nil {
			t.Fatal(err)
		}
		var s, ss float64
		for i := range got {
			d := float64(got[i]) - float64(img[i])
			s += d
			ss += d * d
		}
		mean := s / N
		std := math.Sqrt(ss/N - mean*mean)
		if math.Abs(mean) > 4*tc.sigma/math.Sqrt(N) {
			t.Errorf("SNR %g: noise mean %.3g, want 0 ± %.3g", tc.p.SNR, mean, 4*tc.sigma/math.Sqrt(N))
		}
		// float32 rounding of pixels near 2.3 adds ~1e-7 dex: negligible
		// beside the smallest σ here (~1e-4).
		if rel := std/tc.sigma - 1; math.Abs(rel) > 4/math.Sqrt(2*N) {
			t.Errorf("SNR %g: noise std %.5g, want %.5g (off by %.2f %%)", tc.p.SNR, std, tc.sigma, 100*rel)
		}
	}
	a := append([]float32(nil), img...)
	b := append([]float32(nil), img...)
	c := append([]float32(nil), img...)
	p := Params{SNR: 10, BeamFWHM: 2, Gradient: 1, Angle: 1}
	for _, x := range []struct {
		pix    []float32
		stream uint64
	}{{a, 5}, {b, 5}, {c, 6}} {
		if err := p.Apply(x.pix, size, 1, x.stream); err != nil {
			t.Fatal(err)
		}
	}
	same, differ := true, false
	for i := range a {
		same = same && a[i] == b[i]
		differ = differ || a[i] != c[i]
	}
	if !same || !differ {
		t.Errorf("same stream identical: %v (want true); other stream different: %v (want true)", same, differ)
	}
}

func TestParamsValidate(t *testing.T) {
	img := testImage(8, 1)
	for _, p := range []Params{
		{BeamFWHM: -1}, {BeamFWHM: math.NaN()}, {BeamFWHM: math.Inf(1)}, {SNR: -3}, {SNR: math.NaN()},
		{Gradient: math.Inf(1)}, {Angle: math.NaN()}, {Ref: -0.1},
	} {
		got := append([]float32(nil), img...)
		if err := p.Apply(got, 8, 1, 1); err == nil {
			t.Errorf("%+v accepted", p)
		}
		for i := range got {
			if got[i] != img[i] {
				t.Fatalf("%+v: refused but changed the image", p)
			}
		}
	}
	if err := (Params{}).Apply(img[:10], 8, 1, 1); err == nil {
		t.Error("10 pixels accepted as an 8×8 image")
	}
	got := append([]float32(nil), img...)
	if err := (Params{SNR: math.Inf(1)}).Apply(got, 8, 1, 1); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != img[i] {
			t.Fatal("the zero degradation changed the image")
		}
	}
}

func TestStream(t *testing.T) {
	if Stream("a", 1, 2) == Stream("a", 2, 1) || Stream("a", 1) == Stream("b", 1) || Stream("a", 1) != Stream("a", 1) {
		t.Error("streams of different images collide, or the same image's differ")
	}
}

func BenchmarkBeam(b *testing.B) {
	for _, fwhm := range []float64{2, 8} {
		b.Run(fmt.Sprintf("64px/fwhm%g", fwhm), func(b *testing.B) {
			img := testImage(64, 1)
			pix := make([]float32, len(img))
			for b.Loop() {
				copy(pix, img)
				Beam(pix, 64, fwhm)
			}
		})
	}
}
