package turbulence

import (
	"fmt"
	"math"
	"math/bits"
	"math/cmplx"
)

// Philox4x32 round multipliers and Weyl key increments, from Random123's
// philox.h (PHILOX_M4x32_0/1 and PHILOX_W32_0/1).
const (
	philoxM0 = 0xD2511F53
	philoxM1 = 0xCD9E8D57
	philoxW0 = 0x9E3779B9
	philoxW1 = 0xBB67AE85
)

// philox4x32 returns the Philox4x32-10 block for counter ctr under key:
// ten rounds of the keyed bijection of Salmon, Moraes, Dror & Shaw,
// "Parallel random numbers: as easy as 1, 2, 3" (SC'11). It is the Random123
// reference generator and passes TestU01 BigCrush; distinct counters give
// independent-looking outputs with no sequential state.
func philox4x32(ctr [4]uint32, key [2]uint32) [4]uint32 {
	for r := range 10 {
		if r > 0 {
			key[0] += philoxW0
			key[1] += philoxW1
		}
		hi0, lo0 := bits.Mul32(philoxM0, ctr[0])
		hi1, lo1 := bits.Mul32(philoxM1, ctr[2])
		ctr = [4]uint32{hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0}
	}
	return ctr
}

// canonical reports whether k lies in the half of k-space for which
// amplitudes are drawn: the first non-zero component, in the order kz, ky, kx
// (slowest array index first), is positive. Exactly one of k and −k is
// canonical for every k ≠ 0.
func canonical(kx, ky, kz int) bool {
	switch {
	case kz != 0:
		return kz > 0
	case ky != 0:
		return ky > 0
	default:
		return kx > 0
	}
}

// Amplitude returns the raw complex Gaussian amplitude of vector component c
// (0, 1, 2 for x, y, z) of the mode with integer wavevector (kx, ky, kz):
// real and imaginary parts are independent standard normal deviates (unit
// variance each), before spectral scaling and projection. The value is a pure
// function of its arguments and does not depend on any grid size.
//
// Amplitude is Hermitian: Amplitude(seed, −k, c) = conj(Amplitude(seed, k, c))
// bitwise. For k = 0, its own conjugate partner, it returns 0.
//
// Amplitude panics if c is not 0, 1 or 2 or a component of k is outside the
// signed 32-bit range (the Philox counter holds 32 bits per component).
func Amplitude(seed uint64, kx, ky, kz, c int) complex128 {
	if c < 0 || c > 2 {
		panic(fmt.Sprintf("turbulence: vector component %d not in {0, 1, 2}", c))
	}
	for _, ki := range [3]int{kx, ky, kz} {
		if ki <= math.MinInt32 || ki > math.MaxInt32 {
			panic(fmt.Sprintf("turbulence: wavevector component %d outside the 32-bit counter range", ki))
		}
	}
	switch {
	case kx == 0 && ky == 0 && kz == 0:
		return 0
	case !canonical(kx, ky, kz):
		return cmplx.Conj(Amplitude(seed, -kx, -ky, -kz, c))
	}
	out := philox4x32(
		[4]uint32{uint32(int32(kx)), uint32(int32(ky)), uint32(int32(kz)), uint32(c)},
		[2]uint32{uint32(seed), uint32(seed >> 32)},
	)
	// Box–Muller: an exact transform of two uniforms into two independent
	// standard normals, so no state or rejection loop is needed.
	u1 := uniformOpenClosed(uint64(out[0])<<32 | uint64(out[1]))
	u2 := uniformClosedOpen(uint64(out[2])<<32 | uint64(out[3]))
	r := math.Sqrt(-2 * math.Log(u1))
	sin, cos := math.Sincos(2 * math.Pi * u2)
	return complex(r*cos, r*sin)
}

// uniformOpenClosed maps the top 53 bits of x to a uniform float64 in
// (0, 1], exactly; zero is excluded so that its logarithm is finite.
func uniformOpenClosed(x uint64) float64 {
	return float64(x>>11+1) * 0x1p-53
}

// uniformClosedOpen maps the top 53 bits of x to a uniform float64 in
// [0, 1), exactly.
func uniformClosedOpen(x uint64) float64 {
	return float64(x>>11) * 0x1p-53
}
