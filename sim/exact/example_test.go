package exact_test

import (
	"fmt"
	"log"

	"github.com/turbindex/turbindex/sim/exact"
)

// The Sod-like isothermal shock tube of `sim run --problem shocktube`:
// density 1 on the left, 0.125 on the right, both at rest, in units where
// the sound speed is 1. A rarefaction runs left, a shock right. (Checks by
// hand: u* = −ln ρ* across the fan; the shock speed is sqrt(ρ*/ρR); at the
// sonic point x/t = 0 of the fan u = c and ρ = e^−1.)
func ExampleSolveRiemann() {
	r, err := exact.SolveRiemann(exact.State{Rho: 1}, exact.State{Rho: 0.125}, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("star state: rho %.4f, u %.4f\n", r.Star.Rho, r.Star.U)
	fmt.Printf("left wave: %v from %.4f to %.4f\n", r.Left.Kind, r.Left.Head, r.Left.Tail)
	fmt.Printf("right wave: %v at %.4f\n", r.Right.Kind, r.Right.Head)
	// The solution is self-similar: sample it at x/t.
	for _, xi := range []float64{-2, 0, 2} {
		s := r.Sample(xi)
		fmt.Printf("x/t = %+g: rho %.4f, u %.4f\n", xi, s.Rho, s.U)
	}
	// Output:
	// star state: rho 0.3458, u 1.0620
	// left wave: rarefaction from -1.0000 to 0.0620
	// right wave: shock at 1.6632
	// x/t = -2: rho 1.0000, u 0.0000
	// x/t = +0: rho 0.3679, u 1.0000
	// x/t = +2: rho 0.1250, u 0.0000
}
