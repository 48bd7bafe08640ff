package cnn

import "math"

// Memory model of a Model, calibrated against the peak resident set of
// `train fit` at 64², 128² and 250² (docs/SCALING.md); the constants below
// are what the calibration left besides the buffers counted exactly.
const (
	// runtimeBytes is the Go runtime, the binary and gorgonia's graphs.
	runtimeBytes = 25 << 20
	// heapSlack multiplies the Go heap for the garbage collector's headroom
	// at GOGC=25 (train sets it) and gorgonia's per-step temporaries.
	heapSlack = 1.2
)

// TrainMemory returns an estimate of the peak memory, in bytes, of training
// a model of configuration c on workers goroutines and evaluating it on
// batches of the same size: the per-image buffers of a full batch (the
// input, each block's output, its gradient, pooling indices and input
// gradient), each worker's scratch for one image, the parameters with their
// gradients, RMSprop state and a saved copy, and the runtime. It does not
// count the images the caller holds. A configuration too large to index
// gives math.MaxInt64.
func (c Config) TrainMemory(workers int) int64 {
	workers = max(workers, 1)
	var perImage, scratch float64
	for l, g := range c.geoms() {
		in := float64(g.cin) * float64(g.h) * float64(g.w)
		out := float64(g.cout) * float64(g.h/2) * float64(g.w/2)
		if l == 0 {
			perImage += 4 * in // x
		}
		perImage += 4*out + 4*out + out + 4*in // y, ∂L/∂y, argmax, ∂L/∂x
		// Padded image and its gradient, the pre-pool output (or im2col).
		pad := float64(g.cin) * float64(g.h+2) * float64(g.w+2)
		z := float64(g.cout) * float64(g.h) * float64(g.w+2)
		col := 9 * float64(g.cin) * float64(g.h) * float64(g.w)
		scratch = math.Max(scratch, 4*(2*pad+z+col))
	}
	params := 16 * float64(c.paramCount())
	heap := float64(max(c.Batch, 1))*perImage + float64(workers)*scratch + params
	total := runtimeBytes + heapSlack*heap
	if math.IsNaN(total) || total >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(total)
}
