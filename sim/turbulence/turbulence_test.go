package turbulence

import (
	"fmt"
	"math"
	"math/cmplx"
	"runtime"
	"strings"
	"testing"
)

// testRMS is the 3-D rms speed requested in the tests (the talk's Mach 1.41
// in units of the sound speed).
const testRMS = 1.41

func TestPhiloxKnownAnswers(t *testing.T) {
	// Random123 tests/kat_vectors, the three "philox4x32 10" lines:
	// counter[4], key[2], expected result[4].
	for _, tc := range []struct {
		ctr  [4]uint32
		key  [2]uint32
		want [4]uint32
	}{
		{[4]uint32{0, 0, 0, 0}, [2]uint32{0, 0},
			[4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{[4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, [2]uint32{0xffffffff, 0xffffffff},
			[4]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
		{[4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, [2]uint32{0xa4093822, 0x299f31d0},
			[4]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
	} {
		if got := philox4x32(tc.ctr, tc.key); got != tc.want {
			t.Errorf("philox4x32(%08x, %08x) = %08x, want %08x", tc.ctr, tc.key, got, tc.want)
		}
	}
}

func TestAmplitudeHermitian(t *testing.T) {
	for _, seed := range []uint64{0, 7, 1 << 63} {
		if a := Amplitude(seed, 0, 0, 0, 1); a != 0 {
			t.Errorf("seed %d: Amplitude(k = 0) = %v, want 0", seed, a)
		}
		const r = 5
		for kz := -r; kz <= r; kz++ {
			for ky := -r; ky <= r; ky++ {
				for kx := -r; kx <= r; kx++ {
					for c := range 3 {
						a, b := Amplitude(seed, kx, ky, kz, c), Amplitude(seed, -kx, -ky, -kz, c)
						if b != cmplx.Conj(a) {
							t.Fatalf("seed %d c %d: Amplitude(−k) = %v, conj(Amplitude(k)) = %v for k = (%d, %d, %d)",
								seed, c, b, cmplx.Conj(a), kx, ky, kz)
						}
					}
				}
			}
		}
	}
}

func TestAmplitudeStatistics(t *testing.T) {
	// Canonical modes only (kz > 0), so no two samples are a conjugate pair.
	const seed = 7
	var (
		m                         float64
		sumRe, sumIm              float64
		sumRe2, sumIm2, sumReIm   float64
		sumRe4                    float64
		crossSeed, crossComponent float64
	)
	for kz := 1; kz <= 20; kz++ {
		for ky := -25; ky < 25; ky++ {
			for kx := -25; kx < 25; kx++ {
				for c := range 3 {
					a := Amplitude(seed, kx, ky, kz, c)
					x, y := real(a), imag(a)
					m++
					sumRe += x
					sumIm += y
					sumRe2 += x * x
					sumIm2 += y * y
					sumReIm += x * y
					sumRe4 += x * x * x * x
					crossSeed += x * real(Amplitude(seed+1, kx, ky, kz, c))
					crossComponent += x * real(Amplitude(seed, kx, ky, kz, (c+1)%3))
				}
			}
		}
	}
	// Tolerances are 5 standard errors for M standard normal samples:
	// sd(mean) = 1/√M, sd(sample variance) = √(2/M), sd(mean of x·y) = 1/√M
	// for independent x, y, sd(mean of x⁴) = √((E x⁸ − 9)/M) = √(96/M).
	sd := 1 / math.Sqrt(m)
	for _, tc := range []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"mean of real parts", sumRe / m, 0, 5 * sd},
		{"mean of imaginary parts", sumIm / m, 0, 5 * sd},
		{"variance of real parts", sumRe2 / m, 1, 5 * math.Sqrt(2) * sd},
		{"variance of imaginary parts", sumIm2 / m, 1, 5 * math.Sqrt(2) * sd},
		{"<re·im>", sumReIm / m, 0, 5 * sd},
		{"<re⁴> (Gaussian: 3)", sumRe4 / m, 3, 5 * math.Sqrt(96) * sd},
		{"<re(seed)·re(seed+1)>", crossSeed / m, 0, 5 * sd},
		{"<re(c)·re(c+1)>", crossComponent / m, 0, 5 * sd},
	} {
		if math.Abs(tc.got-tc.want) > tc.tol {
			t.Errorf("%s over %g samples = %.5f, want %g ± %.5f", tc.name, m, tc.got, tc.want, tc.tol)
		} else {
			t.Logf("%s = %.5f (want %g ± %.5f)", tc.name, tc.got, tc.want, tc.tol)
		}
	}
}

func TestAmplitudePanics(t *testing.T) {
	for _, tc := range []struct {
		name       string
		kx, ky, kz int
		c          int
	}{
		{"component 3", 1, 0, 0, 3},
		{"component -1", 1, 0, 0, -1},
		{"k beyond 32 bits", 1 << 40, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Amplitude(%d, %d, %d, %d) did not panic", tc.kx, tc.ky, tc.kz, tc.c)
				}
			}()
			Amplitude(1, tc.kx, tc.ky, tc.kz, tc.c)
		})
	}
}

func TestModeProperties(t *testing.T) {
	for _, tc := range []struct {
		n int
		s Spectrum
	}{
		{16, Spectrum{Index: 11.0 / 3, Seed: 7}},
		{17, Spectrum{Index: 4, Seed: 7}},
		{20, Spectrum{Index: 2, KMin: 2.5, KMax: 6, Seed: 3}},
	} {
		t.Run(fmt.Sprintf("N=%d/n=%.3g/band=[%g,%g]", tc.n, tc.s.Index, tc.s.KMin, tc.s.KMax), func(t *testing.T) {
			n := tc.n
			kmin, kmax := tc.s.band(n)
			// One past the grid on each side checks that off-grid wavevectors are empty.
			for kz := -n/2 - 1; kz <= n/2+1; kz++ {
				for ky := -n/2 - 1; ky <= n/2+1; ky++ {
					for kx := -n/2 - 1; kx <= n/2+1; kx++ {
						checkMode(t, n, tc.s, kx, ky, kz, kmin, kmax)
					}
				}
			}
		})
	}
}

// checkMode checks one Mode against its definition: Hermitian, transverse,
// empty off the band, at k = 0 and at Nyquist or off-grid components, and
// with |v̂|² no larger than the scaled raw amplitudes allow.
func checkMode(t *testing.T, n int, s Spectrum, kx, ky, kz int, kmin, kmax float64) {
	t.Helper()
	m := s.Mode(n, kx, ky, kz)
	if p := s.Mode(n, -kx, -ky, -kz); p != [3]complex128{cmplx.Conj(m[0]), cmplx.Conj(m[1]), cmplx.Conj(m[2])} {
		t.Fatalf("Mode(−k) = %v is not conj(Mode(k)) = conj(%v) at k = (%d, %d, %d)", p, m, kx, ky, kz)
	}
	k2 := kx*kx + ky*ky + kz*kz
	kmag := math.Sqrt(float64(k2))
	nyquistOrOff := 2*max(abs(kx), abs(ky), abs(kz)) >= n
	norm := math.Sqrt(sq(m[0]) + sq(m[1]) + sq(m[2]))
	if k2 == 0 || nyquistOrOff || kmag < kmin || kmag > kmax {
		if norm != 0 {
			t.Fatalf("Mode(k = (%d, %d, %d)) = %v, want 0 (N = %d, band [%g, %g])", kx, ky, kz, m, n, kmin, kmax)
		}
		return
	}
	if norm == 0 {
		t.Fatalf("Mode(k = (%d, %d, %d)) = 0 inside the band", kx, ky, kz)
	}
	dot := complex(float64(kx), 0)*m[0] + complex(float64(ky), 0)*m[1] + complex(float64(kz), 0)*m[2]
	if cmplx.Abs(dot) > 1e-14*kmag*norm {
		t.Fatalf("k·Mode(k) = %v for |k| = %g, |Mode| = %g at k = (%d, %d, %d)", dot, kmag, norm, kx, ky, kz)
	}
	// Projection cannot add power: |v̂| ≤ |k|^(−n/2) |a|.
	var raw float64
	for c := range 3 {
		raw += sq(Amplitude(s.Seed, kx, ky, kz, c))
	}
	if bound := math.Pow(kmag, -s.Index/2) * math.Sqrt(raw); norm > bound*(1+1e-14) {
		t.Fatalf("|Mode(k)| = %g exceeds |k|^(−n/2)|a| = %g at k = (%d, %d, %d)", norm, bound, kx, ky, kz)
	}
}

func TestVelocitySpectrum(t *testing.T) {
	// The slope is fitted over shells 4 ≤ k ≤ N/4 at N = 64:
	//   - below k = 4 the shell average is biased by the lattice: shells 1–3
	//     hold 18, 62 and 98 modes at a few discrete |k| that are not spread
	//     like a continuous shell, and their mean of |k|^−n is 48 %, 24 % and
	//     12 % below k^−n (n = 11/3); fitting from k = 2 biases the slope by
	//     +0.095, from k = 4 by +0.023 (the expected shell averages, computed
	//     by summing |k|^−n over the grid modes);
	//   - above N/4 the spherical cutoff at N/2 and the Nyquist zeroing start
	//     to thin the shells, and the gain in precision is small because the
	//     log-log lever arm is already set by the low shells;
	//   - one realisation has cosmic variance: shell k holds ~4πk² modes, so
	//     its power scatters by ~1/√(4πk²) (14 % at k = 4). Over 30 seeds the
	//     fitted slope scatters by 0.037 about −n + 0.013, so ±0.1 is ~2.4σ
	//     and the three seeds used here pass with margin (see the log).
	const (
		n        = 64
		kLo, kHi = 4, n / 4
		slopeTol = 0.1
	)
	for _, tc := range []struct {
		name  string
		index float64
		seed  uint64
	}{
		{"Kolmogorov/seed=7", 11.0 / 3, 7},
		{"Kolmogorov/seed=8", 11.0 / 3, 8},
		{"Kolmogorov/seed=9", 11.0 / 3, 9},
		{"Burgers/seed=7", 4, 7},
		{"Burgers/seed=8", 4, 8},
		{"Burgers/seed=9", 4, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vx, vy, vz, err := Velocity(n, Spectrum{Index: tc.index, Seed: tc.seed}, testRMS)
			if err != nil {
				t.Fatal(err)
			}
			k, p, longitudinal := PowerSpectrum(n, vx, vy, vz)
			slope := fitSlope(k[kLo-1:kHi], p[kLo-1:kHi])
			rmsErr := math.Abs(rmsSpeed(vx, vy, vz)/testRMS - 1)
			t.Logf("slope %.4f (want %.4f), longitudinal fraction %.2e, rms relative error %.2e",
				slope, -tc.index, longitudinal, rmsErr)
			if math.Abs(slope+tc.index) > slopeTol {
				t.Errorf("fitted slope over shells %d..%d = %.4f, want %.4f ± %g", kLo, kHi, slope, -tc.index, slopeTol)
			}
			checkField(t, n, vx, vy, vz, longitudinal, rmsErr)
		})
	}
}

func TestVelocityGrids(t *testing.T) {
	// Odd, small and non-power-of-two grids, and a band-limited spectrum.
	for _, tc := range []struct {
		n int
		s Spectrum
	}{
		{16, Spectrum{Index: 11.0 / 3, Seed: 1}},
		{17, Spectrum{Index: 4, Seed: 2}},
		{33, Spectrum{Index: 11.0 / 3, Seed: 3}},
		{36, Spectrum{Index: 1, Seed: 4}},
		{30, Spectrum{Index: 6, KMin: 2, KMax: 5, Seed: 5}},
	} {
		t.Run(fmt.Sprintf("N=%d/n=%.3g", tc.n, tc.s.Index), func(t *testing.T) {
			vx, vy, vz, err := Velocity(tc.n, tc.s, testRMS)
			if err != nil {
				t.Fatal(err)
			}
			k, p, longitudinal := PowerSpectrum(tc.n, vx, vy, vz)
			checkField(t, tc.n, vx, vy, vz, longitudinal, math.Abs(rmsSpeed(vx, vy, vz)/testRMS-1))
			if tc.s.KMax > 0 {
				// Shells entirely outside the band hold no power.
				for s := range k {
					if (k[s]+0.5 <= tc.s.KMin || k[s]-0.5 > tc.s.KMax) && p[s] > 1e-28 {
						t.Errorf("shell %g outside the band [%g, %g] has power %g", k[s], tc.s.KMin, tc.s.KMax, p[s])
					}
				}
			}
		})
	}
}

// checkField checks the divergence, rms and mean of a Velocity result.
func checkField(t *testing.T, n int, vx, vy, vz []float64, longitudinal, rmsErr float64) {
	t.Helper()
	if !(longitudinal < 1e-10) {
		t.Errorf("longitudinal power fraction %.3g, want < 1e-10", longitudinal)
	}
	if !(rmsErr < 1e-6) {
		t.Errorf("rms speed relative error %.3g, want < 1e-6", rmsErr)
	}
	for c, v := range [3][]float64{vx, vy, vz} {
		if len(v) != n*n*n {
			t.Fatalf("component %d has length %d, want %d", c, len(v), n*n*n)
		}
		var sum float64
		for _, x := range v {
			sum += x
		}
		if mean := sum / float64(len(v)); !(math.Abs(mean) < 1e-12*testRMS) {
			t.Errorf("component %d has mean %.3g, want |mean| < 1e-12 × rms", c, mean)
		}
	}
}

func TestInverseTransformIsReal(t *testing.T) {
	// The Hermitian spectrum must give a real field: the imaginary parts
	// that Velocity drops are round-off.
	for _, n := range []int{16, 17, 32} {
		spec := fillSlab(n, Spectrum{Index: 11.0 / 3, Seed: 7}, 0, n)
		for c := range spec {
			fft3(n, spec[c], true)
			var maxRe, maxIm float64
			for _, z := range spec[c] {
				maxRe = math.Max(maxRe, math.Abs(real(z)))
				maxIm = math.Max(maxIm, math.Abs(imag(z)))
			}
			if maxIm > 1e-13*maxRe {
				t.Errorf("N = %d component %d: max |imag| = %.3g, max |real| = %.3g", n, c, maxIm, maxRe)
			}
		}
	}
}

func TestResolutionIndependence(t *testing.T) {
	// The same seed must give the same large-scale modes at N = 32 and 64:
	// Mode bitwise, and the realised fields mode by mode once the rms
	// normalisation A_N of each is divided out.
	const (
		kMax = 8
		tol  = 1e-10
	)
	s := Spectrum{Index: 11.0 / 3, Seed: 7}
	for kz := -kMax; kz <= kMax; kz++ {
		for ky := -kMax; ky <= kMax; ky++ {
			for kx := -kMax; kx <= kMax; kx++ {
				if kx*kx+ky*ky+kz*kz > kMax*kMax {
					continue
				}
				if a, b := s.Mode(32, kx, ky, kz), s.Mode(64, kx, ky, kz); a != b {
					t.Fatalf("Mode(32, k) = %v ≠ Mode(64, k) = %v at k = (%d, %d, %d)", a, b, kx, ky, kz)
				}
			}
		}
	}

	type field struct {
		n    int
		spec [3][]complex128 // Fourier-series coefficients of the realised field
		a    float64         // rms normalisation: spec = a·Mode
	}
	var fields []field
	for _, n := range []int{32, 64} {
		vx, vy, vz, err := Velocity(n, s, testRMS)
		if err != nil {
			t.Fatal(err)
		}
		f := field{n: n, a: testRMS / math.Sqrt(modePower(n, s))}
		for c, v := range [3][]float64{vx, vy, vz} {
			f.spec[c] = forward(n, v)
		}
		fields = append(fields, f)
	}
	var worst float64
	for kz := -kMax; kz <= kMax; kz++ {
		for ky := -kMax; ky <= kMax; ky++ {
			for kx := -kMax; kx <= kMax; kx++ {
				if k2 := kx*kx + ky*ky + kz*kz; k2 == 0 || k2 > kMax*kMax {
					continue
				}
				var got [2][3]complex128
				for i, f := range fields {
					at := (index(kz, f.n)*f.n+index(ky, f.n))*f.n + index(kx, f.n)
					for c := range 3 {
						got[i][c] = f.spec[c][at] / complex(f.a, 0)
					}
				}
				want := s.Mode(64, kx, ky, kz)
				var diff, diffMode, norm float64
				for c := range 3 {
					diff += sq(got[0][c] - got[1][c])
					diffMode += sq(got[1][c] - want[c])
					norm += sq(want[c])
				}
				rel := math.Sqrt(math.Max(diff, diffMode) / norm)
				worst = math.Max(worst, rel)
				if rel > tol {
					t.Errorf("k = (%d, %d, %d): N = 32 gives %v, N = 64 gives %v, Mode %v (relative difference %.3g)",
						kx, ky, kz, got[0], got[1], want, rel)
				}
			}
		}
	}
	t.Logf("largest relative difference for |k| ≤ %d: %.2e", kMax, worst)
}

// modePower returns Σ_k |Mode(N, k)|² over the grid, which by Parseval is
// the mean square speed of the field before Velocity normalises it.
func modePower(n int, s Spectrum) float64 {
	var sum float64
	for mz := range n {
		for my := range n {
			for mx := range n {
				m := s.Mode(n, wavenumber(mx, n), wavenumber(my, n), wavenumber(mz, n))
				sum += sq(m[0]) + sq(m[1]) + sq(m[2])
			}
		}
	}
	return sum
}

func TestVelocityDeterminism(t *testing.T) {
	// N = 36 is not a multiple of lineBlock and splits unevenly among 2 and
	// 3 workers.
	const n = 36
	s := Spectrum{Index: 4, Seed: 11}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var ref [3][]float64
	for i, procs := range []int{1, 1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		vx, vy, vz, err := Velocity(n, s, testRMS)
		if err != nil {
			t.Fatal(err)
		}
		got := [3][]float64{vx, vy, vz}
		if i == 0 {
			ref = got
			continue
		}
		for c := range got {
			for j := range got[c] {
				if math.Float64bits(got[c][j]) != math.Float64bits(ref[c][j]) {
					t.Fatalf("call %d (GOMAXPROCS %d): component %d cell %d = %v, first call gave %v",
						i, procs, c, j, got[c][j], ref[c][j])
				}
			}
		}
	}
}

func TestDistinctSeeds(t *testing.T) {
	const n = 32
	a, _, _, err := Velocity(n, Spectrum{Index: 11.0 / 3, Seed: 7}, testRMS)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _, err := Velocity(n, Spectrum{Index: 11.0 / 3, Seed: 8}, testRMS)
	if err != nil {
		t.Fatal(err)
	}
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	// Independent realisations of a red spectrum share few effective degrees
	// of freedom, so their correlation is not tiny; 0.5 would be far out.
	r := ab / math.Sqrt(aa*bb)
	t.Logf("correlation of vx between seeds 7 and 8: %.3f", r)
	if math.Abs(r) > 0.5 {
		t.Errorf("vx for seeds 7 and 8 correlate with r = %.3f, want |r| < 0.5", r)
	}
}

func TestVelocityErrors(t *testing.T) {
	good := Spectrum{Index: 11.0 / 3, Seed: 1}
	with := func(f func(*Spectrum)) Spectrum {
		s := good
		f(&s)
		return s
	}
	for _, tc := range []struct {
		name string
		n    int
		s    Spectrum
		rms  float64
		want string // substring naming the value
	}{
		{"N too small", 1, good, 1, "N = 1"},
		{"N negative", -4, good, 1, "N = -4"},
		{"N too large", maxN + 1, good, 1, fmt.Sprint("N = ", maxN+1)},
		{"index too small", 16, with(func(s *Spectrum) { s.Index = 0.5 }), 1, "spectral index 0.5"},
		{"index too large", 16, with(func(s *Spectrum) { s.Index = 6.5 }), 1, "spectral index 6.5"},
		{"index NaN", 16, with(func(s *Spectrum) { s.Index = math.NaN() }), 1, "spectral index NaN"},
		{"KMin negative", 16, with(func(s *Spectrum) { s.KMin = -1 }), 1, "KMin = -1"},
		{"KMin NaN", 16, with(func(s *Spectrum) { s.KMin = math.NaN() }), 1, "KMin = NaN"},
		{"KMax NaN", 16, with(func(s *Spectrum) { s.KMax = math.NaN() }), 1, "KMax = NaN"},
		{"KMin > KMax", 16, with(func(s *Spectrum) { s.KMin, s.KMax = 5, 3 }), 1, "KMin = 5 > KMax = 3"},
		{"KMin > N/2", 16, with(func(s *Spectrum) { s.KMin = 9 }), 1, "KMin = 9 > KMax = 8"},
		{"empty band", 16, with(func(s *Spectrum) { s.KMin, s.KMax = 2.2, 2.23 }), 1, "no grid mode in the band 2.2 ≤ |k| ≤ 2.23"},
		{"N = 2 is all Nyquist", 2, good, 1, "no grid mode in the band 0 ≤ |k| ≤ 1 at N = 2"},
		{"rms zero", 16, good, 0, "rms speed 0"},
		{"rms negative", 16, good, -1.41, "rms speed -1.41"},
		{"rms NaN", 16, good, math.NaN(), "rms speed NaN"},
		{"rms infinite", 16, good, math.Inf(1), "rms speed +Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vx, vy, vz, err := Velocity(tc.n, tc.s, tc.rms)
			if err == nil {
				t.Fatalf("Velocity(%d, %+v, %g) succeeded, want an error naming %q", tc.n, tc.s, tc.rms, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if vx != nil || vy != nil || vz != nil {
				t.Errorf("Velocity returned fields with the error %q", err)
			}
		})
	}
}

func TestPowerSpectrumKnownFields(t *testing.T) {
	// v = cos(2π·3x/N) along one axis has v̂(±3, 0, 0) = 1/2: total power
	// 1/2 in shell 3, longitudinal if v points along x, transverse if not.
	const n, kw = 16, 3
	shell3 := 0 // modes of the grid in shell 3
	for mz := range n {
		for my := range n {
			for mx := range n {
				k2 := sqi(wavenumber(mx, n)) + sqi(wavenumber(my, n)) + sqi(wavenumber(mz, n))
				if s := math.Floor(math.Sqrt(float64(k2)) + 0.5); s == kw {
					shell3++
				}
			}
		}
	}
	wave := make([]float64, n*n*n)
	for k := range n {
		for j := range n {
			for i := range n {
				wave[(k*n+j)*n+i] = math.Cos(2 * math.Pi * kw * float64(i) / n)
			}
		}
	}
	zero := make([]float64, n*n*n)
	for _, tc := range []struct {
		name       string
		vx, vy, vz []float64
		wantLong   float64
	}{
		{"longitudinal", wave, zero, zero, 1},
		{"transverse", zero, wave, zero, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, p, long := PowerSpectrum(n, tc.vx, tc.vy, tc.vz)
			if len(k) != n/2 || len(p) != n/2 {
				t.Fatalf("got %d shells and %d powers, want %d", len(k), len(p), n/2)
			}
			for s := range k {
				want := 0.0
				if k[s] != float64(s+1) {
					t.Errorf("k[%d] = %g, want %d", s, k[s], s+1)
				}
				if s+1 == kw {
					want = 0.5 / float64(shell3)
				}
				if math.Abs(p[s]-want) > 1e-15 {
					t.Errorf("power in shell %g = %.6g, want %.6g", k[s], p[s], want)
				}
			}
			if math.Abs(long-tc.wantLong) > 1e-14 {
				t.Errorf("longitudinal fraction %.6g, want %g", long, tc.wantLong)
			}
		})
	}
	if _, _, long := PowerSpectrum(n, zero, zero, zero); !math.IsNaN(long) {
		t.Errorf("longitudinal fraction of a zero field = %g, want NaN", long)
	}
}

func TestFFT3(t *testing.T) {
	// Against a direct DFT, on a grid whose size has an odd prime factor, for
	// both directions; and forward∘inverse = N³·identity.
	const n = 6
	data := make([]complex128, n*n*n)
	for i := range data {
		data[i] = Amplitude(99, i, 0, 1, 0)
	}
	for _, inverse := range []bool{false, true} {
		sign := -1.0
		if inverse {
			sign = 1
		}
		got := append([]complex128(nil), data...)
		fft3(n, got, inverse)
		for kz := range n {
			for ky := range n {
				for kx := range n {
					var want complex128
					for z := range n {
						for y := range n {
							for x := range n {
								phase := sign * 2 * math.Pi * float64(kx*x+ky*y+kz*z) / n
								want += data[(z*n+y)*n+x] * cmplx.Exp(complex(0, phase))
							}
						}
					}
					if g := got[(kz*n+ky)*n+kx]; cmplx.Abs(g-want) > 1e-12*n*n*n {
						t.Fatalf("inverse=%t: F(%d, %d, %d) = %v, direct DFT %v", inverse, kx, ky, kz, g, want)
					}
				}
			}
		}
	}
	round := append([]complex128(nil), data...)
	fft3(n, round, false)
	fft3(n, round, true)
	for i := range round {
		if cmplx.Abs(round[i]/(n*n*n)-data[i]) > 1e-14 {
			t.Fatalf("forward then inverse: element %d = %v, want N³·%v", i, round[i], data[i])
		}
	}
}

func BenchmarkVelocity128(b *testing.B) {
	const n = 128
	s := Spectrum{Index: 11.0 / 3, Seed: 7}
	for b.Loop() {
		if _, _, _, err := Velocity(n, s, testRMS); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*n*n), "ns/cell")
}

// fitSlope returns the least-squares slope of log p against log k.
func fitSlope(k, p []float64) float64 {
	var sx, sy, sxx, sxy float64
	m := float64(len(k))
	for i := range k {
		x, y := math.Log(k[i]), math.Log(p[i])
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	return (m*sxy - sx*sy) / (m*sxx - sx*sx)
}

// rmsSpeed returns sqrt(<vx² + vy² + vz²>).
func rmsSpeed(vx, vy, vz []float64) float64 {
	var sum float64
	for i := range vx {
		sum += vx[i]*vx[i] + vy[i]*vy[i] + vz[i]*vz[i]
	}
	return math.Sqrt(sum / float64(len(vx)))
}

func sq(z complex128) float64 { return real(z)*real(z) + imag(z)*imag(z) }

func sqi(i int) int { return i * i }

func abs(i int) int { return max(i, -i) }
