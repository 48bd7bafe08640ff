package turbulence

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/turbindex/turbindex/sim/comm"
)

// TestSlabRankInvariance checks that the distributed generator gives the
// single-rank field bit for bit for every rank count, including ranks with
// no plane at all.
func TestSlabRankInvariance(t *testing.T) {
	const n = 20
	s := Spectrum{Index: 4, Seed: 11}
	want := [3][]float64{}
	var err error
	want[0], want[1], want[2], err = Velocity(n, s, 1.41)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{2, 3, 4, 7, 24} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			var mu sync.Mutex
			err := comm.NewLocal(size).Run(func(c comm.Comm) error {
				slab, err := VelocitySlab(c, n, s, 1.41)
				if err != nil {
					return err
				}
				if lo, hi := SlabRange(n, size, c.Rank()); slab.Y0 != lo || slab.Y1 != hi {
					return fmt.Errorf("slab [%d, %d), want [%d, %d)", slab.Y0, slab.Y1, lo, hi)
				}
				mu.Lock()
				defer mu.Unlock()
				for comp := range 3 {
					for y := slab.Y0; y < slab.Y1; y++ {
						for z := range n {
							for x := range n {
								got, w := slab.V[comp][slab.At(x, y, z)], want[comp][(z*n+y)*n+x]
								if math.Float64bits(got) != math.Float64bits(w) {
									return fmt.Errorf("v%c(%d,%d,%d) = %v, single rank %v", "xyz"[comp], x, y, z, got, w)
								}
							}
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
