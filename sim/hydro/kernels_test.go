package hydro

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/mesh"
)

// vectorOrSkip returns the vector kernels, or skips on a CPU without them.
func vectorOrSkip(t *testing.T) kernels {
	t.Helper()
	k, ok := vectorKernels()
	if !ok {
		t.Skip("no vector kernels on this CPU (amd64 with AVX2 needed)")
	}
	return k
}

// states fills the primitive rows of one kind of test state.
type states func(r *rand.Rand, rho, u, v, w []float64)

var stateKinds = map[string]states{
	// random: densities over 6 decades, supersonic velocities.
	"random": func(r *rand.Rand, rho, u, v, w []float64) {
		for i := range rho {
			rho[i] = math.Exp(7 * (r.Float64() - 0.5))
			u[i], v[i], w[i] = 4*r.NormFloat64(), 4*r.NormFloat64(), 4*r.NormFloat64()
		}
	},
	// shocks: piecewise-constant runs with jumps of 1e4 in density and
	// velocity, exact zeros and negative zeros (the limiter's ±0 and
	// flat-profile cases).
	"shocks": func(r *rand.Rand, rho, u, v, w []float64) {
		vals := []float64{0, math.Copysign(0, -1), 1, -1, 3, 1e-4, 1e4, -7.5}
		var cr, cu, cv, cw float64 = 1, 0, 0, 0
		for i := range rho {
			if r.IntN(5) == 0 {
				cr = math.Abs(vals[r.IntN(len(vals))]) + 1e-3
				cu, cv, cw = vals[r.IntN(len(vals))], vals[r.IntN(len(vals))], vals[r.IntN(len(vals))]
			}
			rho[i], u[i], v[i], w[i] = cr, cu, cv, cw
		}
	},
	// vacuum: ρ ≪ 1 (down to 1e-300, denormal momenta) next to ρ ~ 1.
	"vacuum": func(r *rand.Rand, rho, u, v, w []float64) {
		for i := range rho {
			rho[i] = math.Pow(10, -300*r.Float64())
			if r.IntN(4) == 0 {
				rho[i] = 1 + r.Float64()
			}
			u[i], v[i], w[i] = r.NormFloat64()*1e3, r.NormFloat64()*1e-3, r.NormFloat64()
		}
	},
	// special: NaN and ±Inf in places, to pin the NaN rules of min and max.
	"special": func(r *rand.Rand, rho, u, v, w []float64) {
		vals := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1, -2}
		rows := [][]float64{rho, u, v, w}
		for i := range rho {
			rho[i], u[i], v[i], w[i] = 1+r.Float64(), r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
			if r.IntN(3) == 0 {
				rows[r.IntN(4)][i] = vals[r.IntN(len(vals))]
			}
		}
	},
}

// same reports whether a and b hold the same bits, counting every NaN as
// equal to every NaN (the payload of a NaN is not part of the contract).
func same(a, b []float64) int {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return i
		}
	}
	return -1
}

// TestKernelsBitwise: the vector kernels give the bits of the Go kernels on
// random, shock, near-vacuum and NaN/Inf states, for every row length (the
// vector body and the Go tail) and stride.
func TestKernelsBitwise(t *testing.T) {
	vec := vectorOrSkip(t)
	for name, fill := range stateKinds {
		r := rand.New(rand.NewPCG(11, uint64(len(name))))
		for _, n := range []int{1, 3, 4, 5, 8, 13, 64, 131} {
			for _, s := range []int{1, 2, 7, n + 4} {
				m := 3*s + n
				rho, u, v, w := make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, m)
				fill(r, rho, u, v, w)
				for _, linear := range []bool{false, true} {
					var got, want [4][]float64
					for q := range 4 {
						got[q], want[q] = make([]float64, n), make([]float64, n)
					}
					goKernels.face(linear, rho, u, v, w, s, n, want[0], want[1], want[2], want[3])
					vec.face(linear, rho, u, v, w, s, n, got[0], got[1], got[2], got[3])
					for q := range 4 {
						if i := same(got[q], want[q]); i >= 0 {
							t.Fatalf("%s, n %d, stride %d, linear %v: flux %d of face %d: vector %v, Go %v", name, n, s, linear, q, i, got[q][i], want[q][i])
						}
					}
				}
				// prim and diff on the same rows.
				var gv, wv [3][]float64
				for q := range 3 {
					gv[q], wv[q] = make([]float64, m), make([]float64, m)
				}
				goKernels.prim(rho, u, v, w, wv[0], wv[1], wv[2], m)
				vec.prim(rho, u, v, w, gv[0], gv[1], gv[2], m)
				for q := range 3 {
					if i := same(gv[q], wv[q]); i >= 0 {
						t.Fatalf("%s, n %d: velocity %d of cell %d: vector %v, Go %v", name, m, q, i, gv[q][i], wv[q][i])
					}
				}
				x1, x2 := append([]float64(nil), rho...), append([]float64(nil), rho...)
				goKernels.diff(x1, u, v, 0.37, m)
				vec.diff(x2, u, v, 0.37, m)
				if i := same(x2, x1); i >= 0 {
					t.Fatalf("%s, n %d: diff of cell %d: vector %v, Go %v", name, m, i, x2[i], x1[i])
				}
				lo, hi, tt := [3][]float64{u, w, rho[1:]}, [3][]float64{v, rho, w[2:]}, [3]float64{0.3, 1.7, 1e-3}
				goKernels.diff3(x1, rho, lo, hi, tt, m-2)
				vec.diff3(x2, rho, lo, hi, tt, m-2)
				if i := same(x2, x1); i >= 0 {
					t.Fatalf("%s, n %d: diff3 of cell %d: vector %v, Go %v", name, m-2, i, x2[i], x1[i])
				}
			}
		}
	}
}

// TestSolverVectorEqualsGo runs a supersonic box at ρ ~ 1 and one near
// vacuum (ρ ~ 1e-10) for a few steps with each kernel set:
// the fields must agree bit for bit, ghosts included.
func TestSolverVectorEqualsGo(t *testing.T) {
	vec := vectorOrSkip(t)
	cells := [3]int{13, 10, 9} // not multiples of 4: vector body and tail
	dec, err := mesh.Decompose(cells, 1)
	if err != nil {
		t.Fatal(err)
	}
	bc := [3]BoundaryKind{Periodic, Periodic, Periodic}
	for _, scale := range []float64{1, 1e-10} {
		var out [2][2]*Fields
		for run, k := range []kernels{goKernels, vec} {
			for _, order := range []int{1, 2} {
				err := comm.NewLocal(1).Run(func(c comm.Comm) error {
					s, err := NewSolver(c, dec, bc, [3]float64{0.1, 0.1, 0.1}, 0.3, order)
					if err != nil {
						return err
					}
					s.kern = k
					s.faces.kern = k
					r := rand.New(rand.NewPCG(5, 6))
					b := s.Block
					for kk := range b.Size[2] {
						for j := range b.Size[1] {
							for i := range b.Size[0] {
								c := b.Index(i, j, kk)
								s.U.Rho[c] = scale * math.Exp(r.NormFloat64())
								for d := range 3 {
									s.U.M[d][c] = s.U.Rho[c] * 2 * r.NormFloat64()
								}
							}
						}
					}
					if err := s.Start(); err != nil {
						return err
					}
					for range 4 {
						dt, err := s.Timestep()
						if err != nil {
							return err
						}
						if err := s.Step(dt); err != nil {
							return err
						}
					}
					out[run][order-1] = s.U
					return nil
				})
				if err != nil {
					t.Fatalf("%s kernels, order %d: %v", k.name, order, err)
				}
			}
		}
		for o := range 2 {
			for q, a := range out[0][o].all() {
				if i := same(out[1][o].all()[q], a); i >= 0 {
					t.Fatalf("ρ scale %g, order %d: field %d, cell %d: vector %v, Go %v", scale, o+1, q, i, out[1][o].all()[q][i], a[i])
				}
			}
		}
	}
}

// TestFusedEqualsSweeps: the fused one-pass update gives the bits of the
// three sweeps in turn, with both kernel sets, on 1 and 2 ranks.
func TestFusedEqualsSweeps(t *testing.T) {
	sets := []kernels{goKernels}
	if k, ok := vectorKernels(); ok {
		sets = append(sets, k)
	}
	cells := [3]int{10, 9, 7}
	for _, k := range sets {
		for _, ranks := range []int{1, 2} {
			dec, err := mesh.Decompose(cells, ranks)
			if err != nil {
				t.Fatal(err)
			}
			var out [2][]*Fields
			for run, sweepsOnly := range []bool{false, true} {
				out[run] = make([]*Fields, ranks)
				err := comm.NewLocal(ranks).Run(func(c comm.Comm) error {
					s, err := NewSolver(c, dec, [3]BoundaryKind{Periodic, Periodic, Outflow}, [3]float64{0.1, 0.1, 0.1}, 0.3, 2)
					if err != nil {
						return err
					}
					s.kern, s.faces.kern, s.sweepsOnly = k, k, sweepsOnly
					b := s.Block
					for kk := range b.Size[2] {
						for j := range b.Size[1] {
							for i := range b.Size[0] {
								c := b.Index(i, j, kk)
								x := float64((b.Start[0]+i)*7+(b.Start[1]+j)*3+(b.Start[2]+kk)*5) * 0.37
								s.U.Rho[c] = 1 + 0.5*math.Sin(x)
								for d := range 3 {
									s.U.M[d][c] = s.U.Rho[c] * math.Cos(x*float64(d+2))
								}
							}
						}
					}
					if err := s.Start(); err != nil {
						return err
					}
					for range 3 {
						dt, err := s.Timestep()
						if err != nil {
							return err
						}
						if err := s.Step(dt); err != nil {
							return err
						}
					}
					out[run][c.Rank()] = s.U
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			for r := range ranks {
				for q, a := range out[0][r].all() {
					if i := same(out[1][r].all()[q], a); i >= 0 {
						t.Fatalf("%s kernels, %d ranks: rank %d field %d cell %d: fused %v, sweeps %v", k.name, ranks, r, q, i, a[i], out[1][r].all()[q][i])
					}
				}
			}
		}
	}
}

// TestNoAsmSwitch: the environment switch makes new solvers use the Go
// kernels; without it they use the vector ones where the CPU has them.
func TestNoAsmSwitch(t *testing.T) {
	_, hasVec := vectorKernels()
	for _, tc := range []struct {
		env  string
		want string
	}{
		{"1", "go"},
		{"yes", "go"},
		{"0", map[bool]string{true: "avx2", false: "go"}[hasVec]},
		{"", map[bool]string{true: "avx2", false: "go"}[hasVec]},
	} {
		t.Setenv(NoAsmEnv, tc.env)
		dec, _ := mesh.Decompose([3]int{8, 8, 8}, 1)
		err := comm.NewLocal(1).Run(func(c comm.Comm) error {
			s, err := NewSolver(c, dec, [3]BoundaryKind{Periodic, Periodic, Periodic}, [3]float64{1, 1, 1}, 0.3, 2)
			if err != nil {
				return err
			}
			if s.kern.name != tc.want || s.faces.kern.name != tc.want || Kernels() != tc.want {
				t.Errorf("%s=%q: solver kernels %q/%q, Kernels() %q; want %q", NoAsmEnv, tc.env, s.kern.name, s.faces.kern.name, Kernels(), tc.want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
