package turbulence

import (
	"fmt"
	"math"
)

// PowerSpectrum returns the shell-averaged power of the real N³ vector field
// (vx, vy, vz), each component of length N³ in C order [z][y][x].
//
// With v̂(k) = N⁻³ Σ_x v(x) exp(−2πi k·x/N), the Fourier-series coefficients
// (so that <|v|²> = Σ_k |v̂(k)|²), power[s] is the mean of
// |v̂x|² + |v̂y|² + |v̂z|² over the modes of shell k[s] = s+1, for
// s+1 = 1, …, N/2 (integer division); shell k holds the modes with
// k − 0.5 ≤ |k| < k + 0.5, |k| in units of 2π/L with every component in the
// FFT range (−N/2, N/2]. Power is in squared velocity units.
//
// longitudinalFraction is Σ_k |k̂·v̂|² / Σ_k |v̂|² over all modes k ≠ 0: zero
// for a divergence-free field, one for a curl-free one, NaN when the field has
// no power at k ≠ 0.
//
// Sums run in a fixed order, so the result is deterministic. PowerSpectrum
// panics if N < 1 or a component does not have length N³.
func PowerSpectrum(n int, vx, vy, vz []float64) (k []float64, power []float64, longitudinalFraction float64) {
	if n < 1 || n > maxN {
		panic(fmt.Sprintf("turbulence: PowerSpectrum grid size N = %d out of range", n))
	}
	v := [3][]float64{vx, vy, vz}
	var spec [3][]complex128
	for c, vc := range v {
		if len(vc) != n*n*n {
			panic(fmt.Sprintf("turbulence: PowerSpectrum component %d has length %d, want N³ = %d", c, len(vc), n*n*n))
		}
		spec[c] = forward(n, vc)
	}

	shells := n / 2
	sum := make([]float64, shells)
	count := make([]int, shells)
	var total, longitudinal float64
	for mz := range n {
		kz := wavenumber(mz, n)
		for my := range n {
			ky := wavenumber(my, n)
			for mx := range n {
				kx := wavenumber(mx, n)
				k2 := kx*kx + ky*ky + kz*kz
				if k2 == 0 {
					continue
				}
				at := (mz*n+my)*n + mx
				var p float64
				var dot complex128 // k·v̂
				for c, kc := range [3]int{kx, ky, kz} {
					z := spec[c][at]
					p += real(z)*real(z) + imag(z)*imag(z)
					dot += complex(float64(kc)*real(z), float64(kc)*imag(z))
				}
				total += p
				longitudinal += (real(dot)*real(dot) + imag(dot)*imag(dot)) / float64(k2)
				if s := int(math.Floor(math.Sqrt(float64(k2)) + 0.5)); s <= shells {
					sum[s-1] += p
					count[s-1]++
				}
			}
		}
	}

	k = make([]float64, shells)
	power = make([]float64, shells)
	for s := range shells {
		k[s] = float64(s + 1)
		if count[s] > 0 {
			power[s] = sum[s] / float64(count[s])
		}
	}
	if total == 0 {
		return k, power, math.NaN()
	}
	return k, power, longitudinal / total
}

// forward returns the Fourier-series coefficients N⁻³ Σ_x f(x) exp(−2πi k·x/N)
// of the real N³ array f.
func forward(n int, f []float64) []complex128 {
	z := make([]complex128, len(f))
	for i, x := range f {
		z[i] = complex(x, 0)
	}
	fft3(n, z, false)
	norm := 1 / float64(len(f))
	for i, v := range z {
		z[i] = complex(real(v)*norm, imag(v)*norm)
	}
	return z
}
