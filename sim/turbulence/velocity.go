package turbulence

import (
	"github.com/turbindex/turbindex/sim/comm"
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
	slab, err := VelocitySlab(comm.NewLocal(1).Rank(0), n, s, rms)
	if err != nil {
		return nil, nil, nil, err
	}
	// One rank's slab is the whole box in [y][z][x]: reorder to [z][y][x].
	var v [3][]float64
	for c := range v {
		v[c] = make([]float64, n*n*n)
		for z := range n {
			for y := range n {
				copy(v[c][(z*n+y)*n:(z*n+y+1)*n], slab.V[c][slab.At(0, y, z):slab.At(0, y, z)+n])
			}
		}
		slab.V[c] = nil
	}
	return v[0], v[1], v[2], nil
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
