package hydro_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/hydro"
	"github.com/turbindex/turbindex/sim/mesh"
	"github.com/turbindex/turbindex/sim/problem"
	"github.com/turbindex/turbindex/sim/turbulence"
)

// BenchmarkStep times one full VL2 step (predictor, corrector, both ghost
// exchanges and the time-step reduction) of a turbulent box and reports
// zone-cycles per second and per second per core (cells × steps / s / ranks,
// each rank running on its own core), and per CPU second of the process
// (Mzc/cpu-s: what Athena++ calls zone-cycles/cpu_second; on a shared
// machine it does not count the time the process waited for a core).
func BenchmarkStep(b *testing.B) {
	for _, tc := range []struct{ n, ranks int }{{64, 1}, {128, 1}, {64, 2}, {128, 2}} {
		b.Run(fmt.Sprintf("N%d/ranks%d", tc.n, tc.ranks), func(b *testing.B) {
			if tc.ranks > runtime.GOMAXPROCS(0) {
				b.Skipf("needs %d cores, GOMAXPROCS is %d", tc.ranks, runtime.GOMAXPROCS(0))
			}
			cells := [3]int{tc.n, tc.n, tc.n}
			dec, err := mesh.Decompose(cells, tc.ranks)
			if err != nil {
				b.Fatal(err)
			}
			gen := problem.Turbulence{Spectrum: turbulence.Spectrum{Index: 11.0 / 3, KMin: 1, Seed: 1}, Mach: 1.41}
			dx := 1 / float64(tc.n)
			world := comm.NewLocal(tc.ranks)
			solvers := make([]*hydro.Solver, tc.ranks)
			err = world.Run(func(c comm.Comm) error {
				s, err := hydro.NewSolver(c, dec, gen.Boundaries(), [3]float64{dx, dx, dx}, 0.3, 2)
				if err != nil {
					return err
				}
				if err := gen.Init(c, dec, s.U); err != nil {
					return err
				}
				solvers[c.Rank()] = s
				return s.Start()
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu0 := cpuSeconds()
			err = world.Run(func(c comm.Comm) error {
				s := solvers[c.Rank()]
				for range b.N {
					dt, err := s.Timestep()
					if err != nil {
						return err
					}
					if err := s.Step(dt); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			cpu := cpuSeconds() - cpu0
			zc := float64(tc.n*tc.n*tc.n) * float64(b.N) / b.Elapsed().Seconds()
			if cpu > 0 {
				b.ReportMetric(float64(tc.n*tc.n*tc.n)*float64(b.N)/cpu/1e6, "Mzc/cpu-s")
			}
			b.ReportMetric(zc/1e6, "Mzc/s")
			b.ReportMetric(zc/1e6/float64(tc.ranks), "Mzc/s/core")
		})
	}
}

// BenchmarkStream is STREAM's triad a[i] = b[i] + s·c[i] on three arrays of
// 32 MiB each (well beyond the caches), in Go, on one core: the memory
// bandwidth a streaming kernel can reach here, counted as STREAM does
// (24 bytes per element; the write-allocate read of a is not counted), per
// second of wall time and per CPU second of the process.
// Compare it with BenchmarkStep's bytes per zone-cycle (docs/SCALING.md).
func BenchmarkStream(b *testing.B) {
	const n = 1 << 22
	x, y, z := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range y {
		y[i], z[i] = float64(i), float64(n-i)
	}
	b.SetBytes(24 * n)
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		s := float64(i%7) + 0.5
		for j := range x {
			x[j] = y[j] + s*z[j]
		}
	}
	b.ReportMetric(24*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(24*n*float64(b.N)/cpu/1e9, "GB/cpu-s")
	}
}
