package degrade_test

import (
	"fmt"
	"math"

	"github.com/turbindex/turbindex/train/degrade"
)

// A map observed with a 4-pixel beam, a background rising to the right by
// two deviations of log Σ, and noise at a signal-to-noise of 10.
func Example() {
	const size = 32
	pix := make([]float32, size*size)
	for i := range pix {
		pix[i] = float32(-2.3 + 0.02*math.Sin(float64(i%size)/3)) // log10 Σ
	}
	before := degrade.StdDev(pix)
	p := degrade.Params{BeamFWHM: 4, Gradient: 2, Angle: 0, SNR: 10}
	if err := p.Apply(pix, size, 1, degrade.Stream("kolmogorov-0000", 0, 0, 0)); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("σ(log Σ) %.4f dex before, %.4f after\n", before, degrade.StdDev(pix))
	// Output:
	// σ(log Σ) 0.0135 dex before, 0.0128 after
}
