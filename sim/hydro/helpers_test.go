package hydro_test

import (
	"math"
	"sync"
	"testing"

	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/hydro"
	"github.com/turbindex/turbindex/sim/mesh"
	"github.com/turbindex/turbindex/sim/problem"
)

// result is a run gathered onto the global grid: interior fields in C order.
type result struct {
	cells [3]int
	rho   []float64
	m     [3][]float64
	steps int
	time  float64
}

// evolve runs gen on a grid of cells with cubic cells of width dx, split over
// ranks in-process ranks, until tEnd.
func evolve(t testing.TB, gen problem.Generator, cells [3]int, dx float64, ranks, order int, cfl, tEnd float64) result {
	t.Helper()
	dec, err := mesh.Decompose(cells, ranks)
	if err != nil {
		t.Fatal(err)
	}
	n := cells[0] * cells[1] * cells[2]
	res := result{cells: cells, rho: make([]float64, n)}
	for d := range res.m {
		res.m[d] = make([]float64, n)
	}
	var mu sync.Mutex
	world := comm.NewLocal(ranks)
	err = world.Run(func(c comm.Comm) error {
		s, err := hydro.NewSolver(c, dec, gen.Boundaries(), [3]float64{dx, dx, dx}, cfl, order)
		if err != nil {
			return err
		}
		if err := gen.Init(c, dec, s.U); err != nil {
			return err
		}
		if err := s.Start(); err != nil {
			return err
		}
		for s.Time < tEnd {
			dt, err := s.Timestep()
			if err != nil {
				return err
			}
			if s.Time+dt >= tEnd {
				dt = tEnd - s.Time
			}
			if err := s.Step(dt); err != nil {
				return err
			}
			if s.Time >= tEnd {
				break
			}
		}
		mu.Lock()
		defer mu.Unlock()
		b := s.Block
		for k := range b.Size[2] {
			for j := range b.Size[1] {
				for i := range b.Size[0] {
					g := ((b.Start[2]+k)*cells[1]+b.Start[1]+j)*cells[0] + b.Start[0] + i
					c := b.Index(i, j, k)
					res.rho[g] = s.U.Rho[c]
					for d := range 3 {
						res.m[d][g] = s.U.M[d][c]
					}
				}
			}
		}
		res.steps, res.time = s.Steps, s.Time
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func l1(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += math.Abs(a[i] - b[i])
	}
	return s / float64(len(a))
}
