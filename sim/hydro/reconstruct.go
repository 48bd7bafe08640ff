package hydro

import "math"

// mc is the monotonised-central slope limiter of van Leer (1977): the
// smallest in magnitude of 2Δ−, 2Δ+ and the central difference ½(Δ− + Δ+),
// zero at extrema. It is odd under mirroring: mc(−b, −a) = −mc(a, b), which
// keeps mirrored problems exactly mirrored.
func mc(dm, dp float64) float64 {
	// Branch-free: s is the sign of Δ−; if Δ+ has the other sign one of the
	// candidates is negative and the clamp at zero gives a flat profile.
	// The vector kernels use the instructions' min and max (minpd, maxpd in
	// kernels.go). Go's builtins agree with them except when a NaN is
	// involved (a zero's sign does not survive the clamp at +0), and they
	// compile without branches: use them, and the exact rules for a NaN.
	s := math.Copysign(1, dm)
	c := 0.5 * (dm + dp)
	cs, ms, ps := c*s, 2*dm*s, 2*dp*s
	m := max(min(cs, ms, ps), 0)
	if m != m {
		m = maxpd(minpd(minpd(cs, ms), ps), 0)
	}
	return s * m
}

// plm returns the reconstructed values on both sides of the face between
// cells a and b, given the values in cells a−1, a, b, b+1: the left state is
// the linear profile of cell a evaluated at its right face, the right state
// that of cell b at its left face, slopes limited by mc.
func plm(am, a, b, bp float64) (left, right float64) {
	d := b - a
	left = a + float64(0.5*mc(a-am, d))
	right = b - float64(0.5*mc(d, bp-b))
	return
}
