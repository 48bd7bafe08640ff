package turbulence

import (
	"fmt"
	"math"
)

// maxN bounds the grid size so that N³ cannot overflow an int and every
// wavevector component fits the 32-bit Philox counter.
const maxN = 1 << 20

// Spectrum describes the initial velocity power spectrum.
type Spectrum struct {
	// Index is the spectral index n (dimensionless): the shell-averaged
	// power of the 3-D velocity field is |v̂(k)|² ∝ k^−n, so n = 11/3 is
	// Kolmogorov (energy spectrum E(k) ∝ k^−5/3) and n = 4 Burgers.
	// Valid values lie in [1, 6].
	Index float64

	// KMin and KMax bound the band of |k|, in units of the fundamental
	// wavenumber 2π/L, that carries power: modes with KMin ≤ |k| ≤ KMax
	// are kept, the others are zero. KMin ≤ 1 (the zero value included)
	// keeps every mode down to the fundamental. KMax ≤ 0 means N/2
	// (integer division), the largest sphere that fits the grid.
	KMin, KMax float64

	// Seed keys the counter-based random number generator.
	Seed uint64
}

// band returns the effective [KMin, KMax] band, in units of 2π/L, on an N³
// grid.
func (s Spectrum) band(n int) (kmin, kmax float64) {
	kmax = s.KMax
	if kmax <= 0 {
		kmax = float64(n / 2)
	}
	return s.KMin, kmax
}

// Validate returns an error, naming the offending value, if s cannot
// describe a spectrum on an N³ grid.
func (s Spectrum) Validate(n int) error {
	switch {
	case n < 2:
		return fmt.Errorf("turbulence: grid size N = %d, need N ≥ 2", n)
	case n > maxN:
		return fmt.Errorf("turbulence: grid size N = %d, need N ≤ %d", n, maxN)
	case !(s.Index >= 1 && s.Index <= 6): // also rejects NaN
		return fmt.Errorf("turbulence: spectral index %g outside [1, 6]", s.Index)
	case !(s.KMin >= 0): // also rejects NaN
		return fmt.Errorf("turbulence: KMin = %g, need KMin ≥ 0", s.KMin)
	case math.IsNaN(s.KMax):
		return fmt.Errorf("turbulence: KMax = %g is not a number", s.KMax)
	}
	if kmin, kmax := s.band(n); kmin > kmax {
		return fmt.Errorf("turbulence: KMin = %g > KMax = %g (N = %d)", kmin, kmax, n)
	}
	return nil
}

// onGrid reports whether the integer wavevector k is represented on an N³
// grid by a mode that is not its own alias: every component satisfies
// 2|k_i| < N. This excludes the Nyquist components ±N/2 of even N (see the
// package documentation) and anything beyond the grid.
func onGrid(n, kx, ky, kz int) bool {
	for _, ki := range [3]int{kx, ky, kz} {
		if 2*ki >= n || -2*ki >= n {
			return false
		}
	}
	return true
}

// Mode returns the spectral amplitude v̂(k) of the velocity, per vector
// component x, y, z, at integer wavevector (kx, ky, kz) (units of 2π/L) on an
// N³ grid, before the rms normalisation of Velocity. It is the raw Amplitude
// scaled by |k|^(−n/2), restricted to the band KMin ≤ |k| ≤ KMax, and
// projected onto the plane normal to k, v̂ ← v̂ − k̂(k̂·v̂), so k·v̂ = 0 up to
// round-off. It is zero for k = 0, for modes with a Nyquist component (±N/2,
// even N) and for components outside the grid.
//
// Mode depends on N only through the band default and the grid checks, so
// the same seed gives bitwise the same modes at every N that holds them.
// Mode is Hermitian bitwise: Mode(N, −k) = conj(Mode(N, k)). Mode does not
// validate s; see Validate.
func (s Spectrum) Mode(n, kx, ky, kz int) [3]complex128 {
	var v [3]complex128
	k2 := kx*kx + ky*ky + kz*kz
	if k2 == 0 || !onGrid(n, kx, ky, kz) {
		return v
	}
	kmin, kmax := s.band(n)
	if kmag := math.Sqrt(float64(k2)); kmag < kmin || kmag > kmax {
		return v
	}
	// |v̂|² ∝ |k|^−n, hence the amplitude scales as |k|^(−n/2) = (k²)^(−n/4).
	scale := math.Pow(float64(k2), -s.Index/4)
	k := [3]float64{float64(kx), float64(ky), float64(kz)}
	var dot complex128 // k·v̂
	for c := range v {
		a := Amplitude(s.Seed, kx, ky, kz, c)
		v[c] = complex(scale*real(a), scale*imag(a))
		dot += complex(k[c]*real(v[c]), k[c]*imag(v[c]))
	}
	// Remove the longitudinal part. Real-by-complex products are written
	// out so that negating k negates them exactly, which keeps Mode
	// bitwise Hermitian.
	d := complex(real(dot)/float64(k2), imag(dot)/float64(k2))
	for c := range v {
		v[c] -= complex(k[c]*real(d), k[c]*imag(d))
	}
	return v
}

// wavenumber returns the integer wavenumber, in the FFT range (−N/2, N/2],
// held by array index m of a length-N transform.
func wavenumber(m, n int) int {
	if 2*m > n {
		return m - n
	}
	return m
}

// index returns the array index, in [0, N), of integer wavenumber k.
func index(k, n int) int {
	return ((k % n) + n) % n
}
