package cnn

import "math"

// A counter-based random stream: splitmix64 over (key, counter). Every
// random number of the package — initial weights, dropout masks — comes
// from a stream keyed by the seed and what it is for, so a run is
// reproduced by its seed and step count alone.
type stream struct{ key, ctr uint64 }

func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func newStream(parts ...uint64) *stream {
	k := uint64(0x74757262696e6478) // "turbindx"
	for _, p := range parts {
		k = mix64(k ^ p)
	}
	return &stream{key: k}
}

func (s *stream) uint64() uint64 {
	s.ctr++
	return mix64(s.key ^ mix64(s.ctr))
}

// float64 returns a uniform number in [0, 1).
func (s *stream) float64() float64 {
	return float64(s.uint64()>>11) / (1 << 53)
}

// Stream purposes.
const (
	purposeInit    = 1
	purposeDropout = 2
)

// glorotUniform fills w with U(−l, l), l = √(6/(fanIn+fanOut)) (Keras'
// glorot_uniform).
func glorotUniform(w []float32, fanIn, fanOut int, s *stream) {
	l := math.Sqrt(6 / float64(fanIn+fanOut))
	for i := range w {
		w[i] = float32((2*s.float64() - 1) * l)
	}
}

// dropoutMask fills mask with 0 (dropped, probability p) or 1/(1−p)
// (kept) for dense layer `layer` at optimizer step `step`.
func dropoutMask(mask []float32, p float64, seed, step uint64, layer int) {
	s := newStream(seed, purposeDropout, step, uint64(layer))
	keep := float32(1 / (1 - p))
	for i := range mask {
		if s.float64() < p {
			mask[i] = 0
		} else {
			mask[i] = keep
		}
	}
}
