package hydro_test

import (
	"fmt"
	"testing"

	"github.com/turbindex/turbindex/sim/exact"
	"github.com/turbindex/turbindex/sim/problem"
)

// TestShockTube runs the isothermal Riemann problem ρL/ρR = 8 at rest
// (ρL = 1, ρR = 0.125, c = 1, unit box, discontinuity at x = ½) to t = 0.2 and
// compares the density with the exact solution averaged over each cell.
// Athena++ (VL2 + PLM + LLF) gives L1 errors 5.1e-3, 2.6e-3, 1.3e-3 at
// N = 128, 256, 512: be no worse. The same run along y and along z must give
// bit-identical densities and the same number of steps.
func TestShockTube(t *testing.T) {
	const tEnd = 0.2
	rp, err := exact.SolveRiemann(exact.State{Rho: 1}, exact.State{Rho: 0.125}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n      int
		athena float64
	}{{128, 5.1e-3}, {256, 2.6e-3}, {512, 1.3e-3}} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			dx := 1 / float64(tc.n)
			want := make([]float64, tc.n)
			for i := range want {
				want[i] = rp.CellAverage(float64(i)*dx, float64(i+1)*dx, 0.5, tEnd).Rho
			}
			var ref result
			for axis := range 3 {
				cells := [3]int{1, 1, 1}
				cells[axis] = tc.n
				gen := problem.ShockTube{Axis: axis, RhoL: 1, RhoR: 0.125}
				got := evolve(t, gen, cells, dx, 1, 2, 0.4, tEnd)
				if axis == 0 {
					ref = got
					e := l1(got.rho, want)
					t.Logf("N=%d L1(ρ) = %.3e in %d steps (Athena++ %.1e)", tc.n, e, got.steps, tc.athena)
					if e > tc.athena {
						t.Errorf("N=%d: L1 error %.3e worse than Athena++ %.1e", tc.n, e, tc.athena)
					}
					continue
				}
				if got.steps != ref.steps {
					t.Errorf("axis %c: %d steps, along x %d", "xyz"[axis], got.steps, ref.steps)
				}
				for i := range ref.rho {
					if got.rho[i] != ref.rho[i] {
						t.Fatalf("axis %c: cell %d density %.17g, along x %.17g", "xyz"[axis], i, got.rho[i], ref.rho[i])
					}
				}
			}
		})
	}
}
