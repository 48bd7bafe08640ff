package turbulence

import (
	"fmt"
	"math"
	"math/cmplx"
)

// Velocity returns the velocity components vx, vy, vz on an N³ grid, each of
// length N³ in C order [z][y][x], for the spectrum s. The field is real,
// divergence-free (spectrally: k·v̂(k) = 0 for every mode), has zero mean
// (k = 0 is empty) and its 3-D rms speed sqrt(<vx²+vy²+vz²>) equals rms, in
// whatever velocity unit rms is given (code units), to round-off.
//
// The Fourier amplitudes are A·s.Mode(N, k) with A a single positive real
// factor fixed by rms. The output is bitwise reproducible: it does not
// depend on GOMAXPROCS, and sums run in a fixed order.
//
// Velocity holds three complex N³ work arrays and the three real outputs
// while it runs, at most 72·N³ bytes (N = 128: 151 MB; N = 500: 9 GB).
//
// It returns an error naming the value if N or s is invalid (see
// Spectrum.Validate), if rms is not positive and finite, or if no grid mode
// falls in the band of s.
func Velocity(n int, s Spectrum, rms float64) (vx, vy, vz []float64, err error) {
	if err := s.Validate(n); err != nil {
		return nil, nil, nil, err
	}
	if !(rms > 0) || math.IsInf(rms, 1) {
		return nil, nil, nil, fmt.Errorf("turbulence: rms speed %g must be positive and finite", rms)
	}
	spec := spectralField(n, s)
	var v [3][]float64
	for c := range spec {
		fft3(n, spec[c], true)
		v[c] = realPart(spec[c])
		spec[c] = nil // let the collector reuse the complex array for the next real one
	}
	ms := meanSquare(n, v)
	if ms == 0 {
		kmin, kmax := s.band(n)
		return nil, nil, nil, fmt.Errorf("turbulence: no grid mode in the band %g ≤ |k| ≤ %g at N = %d", kmin, kmax, n)
	}
	scale := rms / math.Sqrt(ms)
	for _, vc := range v {
		for i := range vc {
			vc[i] *= scale
		}
	}
	return v[0], v[1], v[2], nil
}

// spectralField returns the three components of s.Mode(N, k) on the N³
// wavevector grid, array index m ↔ wavenumber m or m − N (see wavenumber).
//
// Each Mode is computed once, for the canonical member of its ±k pair, and
// its conjugate is stored at −k; the work is split by kz planes, a plane
// kz > 0 being filled together with its partner −kz so that no two
// goroutines write the same plane.
func spectralField(n int, s Spectrum) [3][]complex128 {
	var spec [3][]complex128
	for c := range spec {
		spec[c] = make([]complex128, n*n*n)
	}
	// Planes 0 ≤ kz ≤ (N−1)/2; for even N the Nyquist plane N/2 stays zero.
	parallelFor((n-1)/2+1, func(lo, hi int) {
		for kz := lo; kz < hi; kz++ {
			fillPlane(n, s, kz, spec)
		}
	})
	return spec
}

// fillPlane stores the canonical modes with wavenumber kz ≥ 0 and their
// Hermitian partners, which lie in plane −kz.
func fillPlane(n int, s Spectrum, kz int, spec [3][]complex128) {
	mz := index(-kz, n)
	for jy := range n {
		ky := wavenumber(jy, n)
		my := index(-ky, n)
		for ix := range n {
			kx := wavenumber(ix, n)
			if !canonical(kx, ky, kz) {
				continue // stored as the partner of −k, which is canonical
			}
			m := s.Mode(n, kx, ky, kz)
			at := (kz*n+jy)*n + ix
			partner := (mz*n+my)*n + index(-kx, n)
			for c := range m {
				spec[c][at] = m[c]
				spec[c][partner] = cmplx.Conj(m[c])
			}
		}
	}
}

// realPart returns the real parts of z. For the Hermitian spectra of
// spectralField the imaginary parts after the inverse transform are
// round-off.
func realPart(z []complex128) []float64 {
	x := make([]float64, len(z))
	for i, v := range z {
		x[i] = real(v)
	}
	return x
}

// meanSquare returns <v0² + v1² + v2²> over the N³ cells. It sums each z
// plane separately, in parallel, then adds the plane sums in order: the
// partition is fixed by N alone, so the result is bitwise the same for any
// GOMAXPROCS, and the two-level sum keeps the rounding error small.
func meanSquare(n int, v [3][]float64) float64 {
	plane := make([]float64, n)
	parallelFor(n, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			var sum float64
			for _, vc := range v {
				for _, x := range vc[k*n*n : (k+1)*n*n] {
					sum += x * x
				}
			}
			plane[k] = sum
		}
	})
	var total float64
	for _, p := range plane {
		total += p
	}
	return total / float64(n*n*n)
}
