package hydro_test

import (
	"math"
	"slices"
	"testing"

	"github.com/turbindex/turbindex/sim/problem"
)

// waveError runs a linear sound wave for one period and returns the L1 error
// of the density against the initial state (the exact solution after one
// period). The absolute errors are summed in sorted order so that mirrored
// runs, which have the same multiset of errors, give the same sum exactly.
func waveError(t *testing.T, n int, diagonal, left bool) float64 {
	const amp = 1e-6
	gen := problem.SoundWave{Amp: amp, Diagonal: diagonal, Left: left}
	cells := [3]int{n, 1, 1}
	period := 1.0 // wavelength L = 1 at c = 1
	if diagonal {
		cells = [3]int{n, n, n}
		period = 1 / math.Sqrt(3)
	}
	init := evolve(t, gen, cells, 1/float64(n), 1, 2, 0.3, 0)
	end := evolve(t, gen, cells, 1/float64(n), 1, 2, 0.3, period)
	errs := make([]float64, len(init.rho))
	for i := range errs {
		errs[i] = math.Abs(end.rho[i] - init.rho[i])
	}
	slices.Sort(errs)
	s := 0.0
	for _, e := range errs {
		s += e
	}
	return s / float64(len(errs))
}

func TestSoundWaveConvergence(t *testing.T) {
	for _, tc := range []struct {
		name     string
		diagonal bool
		grids    []int
		athena   []float64 // Athena++ VL2+PLM+LLF, same protocol: be no worse
	}{
		{"x", false, []int{16, 32, 64, 128}, []float64{5.5e-7, 1.4e-7, 4.0e-8, 1.1e-8}},
		{"diagonal", true, []int{16, 32, 64}, []float64{5.5e-7, 1.4e-7, 4.0e-8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var prev float64
			for i, n := range tc.grids {
				right := waveError(t, n, tc.diagonal, false)
				left := waveError(t, n, tc.diagonal, true)
				t.Logf("N=%d L1(ρ) right %.3e left %.3e", n, right, left)
				if right != left {
					t.Errorf("N=%d: left- and right-going errors differ: %.17g vs %.17g", n, left, right)
				}
				if right > tc.athena[i] {
					t.Errorf("N=%d: L1 error %.3e worse than Athena++ %.1e", n, right, tc.athena[i])
				}
				if i > 0 {
					if r := prev / right; r < 3.5 {
						t.Errorf("N=%d: error ratio %.2f per doubling < 3.5", n, r)
					}
				}
				prev = right
			}
		})
	}
}
