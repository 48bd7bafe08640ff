// Package exact holds exact solutions of the isothermal Euler equations,
// used to verify the hydro solver.
//
// Units: everything is in code units (see package units). Densities are in
// code density units, velocities and the sound speed c in code velocity units,
// positions in code length units and times in code time units. Nothing here
// assumes c = 1, so any consistent unit system works.
//
// # The isothermal Riemann problem
//
// The 1-D isothermal Euler equations with p = ρ c² are
//
//	ρ_t + (ρu)_x = 0,
//	(ρu)_t + (ρu² + c²ρ)_x = 0.
//
// The characteristic speeds are u − c (1-wave) and u + c (2-wave), and the
// Riemann invariants follow from writing the system in primitive form,
// ρ_t + uρ_x + ρu_x = 0 and u_t + uu_x + (c²/ρ)ρ_x = 0: multiplying the first
// by ±c/ρ and adding gives
//
//	(u ± c ln ρ)_t + (u ± c)(u ± c ln ρ)_x = 0,
//
// so J₊ = u + c ln ρ is carried along dx/dt = u + c and J₋ = u − c ln ρ along
// dx/dt = u − c. A 1-rarefaction is crossed only by the u + c characteristics
// (from the undisturbed left state), so J₊ is constant across it; a
// 2-rarefaction keeps J₋ constant.
//
// There is no contact wave (the energy equation is absent), so the solution is
// L | left wave | star | right wave | R with a single star state (ρ*, u*).
// Unlike the adiabatic case there is no vacuum either: ln ρ → −∞ as ρ → 0, so
// two receding rarefactions never empty the star region; ρ* just becomes
// exponentially small (see ErrVacuum).
package exact

import (
	"errors"
	"fmt"
	"math"
)

// State is a 1-D isothermal fluid state.
type State struct {
	Rho float64 // density (code density units)
	U   float64 // velocity (code velocity units)
}

// WaveKind tells whether a wave of the Riemann solution is a shock or a
// rarefaction fan.
type WaveKind int

// The wave kinds. The zero WaveKind is invalid.
const (
	Shock WaveKind = iota + 1
	Rarefaction
)

// String returns "shock" or "rarefaction".
func (k WaveKind) String() string {
	switch k {
	case Shock:
		return "shock"
	case Rarefaction:
		return "rarefaction"
	}
	return fmt.Sprintf("WaveKind(%d)", int(k))
}

// Wave is one of the two waves of the solution, located in the similarity
// coordinate ξ = (x − x0)/t (code velocity units).
//
// Head is the edge facing the undisturbed state (the leftmost edge of the left
// wave, the rightmost edge of the right wave) and Tail the edge facing the
// star region. A shock has Head == Tail == its speed. A rarefaction with
// ρ* = ρK exactly has zero width.
type Wave struct {
	Kind       WaveKind
	Head, Tail float64 // code velocity units
}

// Riemann is a solved isothermal Riemann problem.
type Riemann struct {
	L, R  State   // the initial states left and right of x0
	C     float64 // isothermal sound speed (code velocity units)
	Star  State   // the state between the two waves
	Left  Wave    // the 1-wave, moving into L
	Right Wave    // the 2-wave, moving into R
}

// Errors returned by SolveRiemann; test for them with errors.Is.
var (
	// ErrInvalid reports a non-positive or non-finite density or sound
	// speed, or a non-finite velocity.
	ErrInvalid = errors.New("exact: invalid Riemann problem")
	// ErrVacuum reports that the two rarefactions pull the star region
	// apart so fast that ρ* falls below the smallest normal float64
	// (≈2.2e-308). The exact isothermal ρ* is never zero, but it is
	// sqrt(ρL ρR) exp(−(uR − uL)/(2c)) in this regime and so unrepresentable
	// once (uR − uL)/(2c) exceeds about 708 + ln sqrt(ρL ρR).
	ErrVacuum = errors.New("exact: star density underflows (isothermal vacuum limit)")
	// ErrOverflow reports colliding flows so strong that ρ* exceeds the
	// largest float64.
	ErrOverflow = errors.New("exact: star density overflows")
)

// Bounds of ln ρ* for which ρ* is a normal, finite float64.
var (
	lnMinRho = math.Log(0x1p-1022)           // ≈ −708.4
	lnMaxRho = math.Log(math.MaxFloat64) - 1 // margin so exp(lnMaxRho) and sqrt ratios stay finite
)

// SolveRiemann solves the isothermal Riemann problem with left state l, right
// state r and sound speed c (code units). It fails with ErrInvalid when a
// density or c is not positive and finite or a velocity is not finite, with
// ErrVacuum when ρ* underflows and with ErrOverflow when it overflows.
//
// The star density is found by safeguarded Newton iteration on
//
//	f(ρ*) = fL(ρ*) + fR(ρ*) + (uR − uL) = 0,
//
// and then u* = ½(uL + uR) + ½(fR − fL). Here fK is the velocity change
// across wave K: a shock (ρ* > ρK) gives fK = c (ρ* − ρK)/sqrt(ρ* ρK), a
// rarefaction (ρ* ≤ ρK) gives fK = c ln(ρ*/ρK).
//
// Why these fK. Rarefactions: J₊ = u + c ln ρ is constant across the left fan,
// so u* = uL − c ln(ρ*/ρL) = uL − fL; J₋ = u − c ln ρ across the right fan
// gives u* = uR + c ln(ρ*/ρR) = uR + fR. Shocks: in the frame of a shock of
// speed S the mass flux m = ρK(uK − S) = ρ*(u* − S) and the momentum flux
// m²/ρ + c²ρ are continuous, so m²(1/ρK − 1/ρ*) = c²(ρ* − ρK), i.e.
// m² = c² ρK ρ*. Then u* − uK = m/ρ* − m/ρK = −m(ρ* − ρK)/(ρK ρ*); with
// |m| = c sqrt(ρK ρ*) and m > 0 for the left shock (gas enters it from the
// left), m < 0 for the right one, this is u* = uL − fL and u* = uR + fR with
// the shock fK above. Equating the two expressions for u* gives f = 0, and
// averaging them gives u* (the average halves the effect of the residual of
// the root on u*).
//
// Wave speeds: the left shock moves at S_L = uL − m/ρL = uL − c sqrt(ρ*/ρL),
// the right one at S_R = uR + c sqrt(ρ*/ρR). The left fan runs from its head
// uL − c to its tail u* − c, the right fan from u* + c (tail) to uR + c (head).
func SolveRiemann(l, r State, c float64) (*Riemann, error) {
	for _, s := range []struct {
		name string
		st   State
	}{{"left", l}, {"right", r}} {
		if !(s.st.Rho > 0) || math.IsInf(s.st.Rho, 0) {
			return nil, fmt.Errorf("%w: %s density %g must be positive and finite", ErrInvalid, s.name, s.st.Rho)
		}
		if math.IsNaN(s.st.U) || math.IsInf(s.st.U, 0) {
			return nil, fmt.Errorf("%w: %s velocity %g must be finite", ErrInvalid, s.name, s.st.U)
		}
	}
	if !(c > 0) || math.IsInf(c, 0) {
		return nil, fmt.Errorf("%w: sound speed %g must be positive and finite", ErrInvalid, c)
	}
	du := r.U - l.U
	if math.IsInf(du, 0) {
		return nil, fmt.Errorf("%w: velocity jump uR − uL = %g − %g overflows", ErrInvalid, r.U, l.U)
	}

	yL, yR := math.Log(l.Rho), math.Log(r.Rho)
	y, err := solveStar(yL, yR, du, c)
	if err != nil {
		return nil, fmt.Errorf("ρL=%g uL=%g ρR=%g uR=%g c=%g: %w", l.Rho, l.U, r.Rho, r.U, c, err)
	}

	fL, _ := sideF(y, yL, c)
	fR, _ := sideF(y, yR, c)
	sol := &Riemann{L: l, R: r, C: c}
	sol.Star = State{Rho: math.Exp(y), U: 0.5*(l.U+r.U) + 0.5*(fR-fL)}
	if y > yL {
		s := l.U - c*math.Exp(0.5*(y-yL)) // S_L = uL − c sqrt(ρ*/ρL)
		sol.Left = Wave{Kind: Shock, Head: s, Tail: s}
	} else {
		sol.Left = Wave{Kind: Rarefaction, Head: l.U - c, Tail: sol.Star.U - c}
	}
	if y > yR {
		s := r.U + c*math.Exp(0.5*(y-yR)) // S_R = uR + c sqrt(ρ*/ρR)
		sol.Right = Wave{Kind: Shock, Head: s, Tail: s}
	} else {
		sol.Right = Wave{Kind: Rarefaction, Head: r.U + c, Tail: sol.Star.U + c}
	}
	return sol, nil
}

// sideF returns fK and dfK/dy as functions of y = ln ρ* for the side with
// yK = ln ρK.
//
// Why work in y: with d = y − yK the shock branch is
// c(ρ* − ρK)/sqrt(ρ* ρK) = c(e^{d/2} − e^{−d/2}) = 2c sinh(d/2) and the
// rarefaction branch is c d. Both have value 0, slope c and curvature 0 at
// d = 0, so fK(y) is C² and convex, with fK' ≥ c everywhere. Hence
// f(y) = fL + fR + Δu is increasing and convex with f' ≥ 2c: it has exactly
// one root, and Newton converges to it monotonically from the right.
func sideF(y, yK, c float64) (f, df float64) {
	d := y - yK
	if d > 0 {
		return 2 * c * math.Sinh(0.5*d), c * math.Cosh(0.5*d)
	}
	return c * d, c
}

// solveStar returns y* = ln ρ*, the root of f(y) = fL(y) + fR(y) + du.
func solveStar(yL, yR, du, c float64) (float64, error) {
	f := func(y float64) (float64, float64) {
		a, da := sideF(y, yL, c)
		b, db := sideF(y, yR, c)
		return a + b + du, da + db
	}
	// ρ* must be a normal finite float64. f is increasing, so it suffices to
	// check the signs at the ends of that range.
	if fLo, _ := f(lnMinRho); fLo > 0 {
		return 0, fmt.Errorf("%w: ln ρ* < %.1f", ErrVacuum, lnMinRho)
	}
	if fHi, _ := f(lnMaxRho); fHi < 0 {
		return 0, fmt.Errorf("%w: ln ρ* > %.1f", ErrOverflow, lnMaxRho)
	}

	// Two-rarefaction guess: c(y − yL) + c(y − yR) + du = 0. Each fK is ≥ its
	// rarefaction branch c(y − yK) (2 sinh(d/2) ≥ d for d ≥ 0), so f ≥ that
	// linear function and y0 ≥ y*. If y0 ≤ min(yL, yR) both waves really are
	// rarefactions and y0 is the exact root,
	// ρ* = sqrt(ρL ρR) exp(−(uR − uL)/(2c)).
	y0 := 0.5*(yL+yR) - 0.5*(du/c)
	if y0 <= math.Min(yL, yR) {
		return y0, nil
	}

	// Safeguarded Newton on the bracket [lo, hi] with f(lo) ≤ 0 ≤ f(hi).
	// Starting at hi ≥ y* the convexity makes every Newton step land in
	// [y*, y], so the bisection fallback only catches rounding and the case
	// f(hi) = +Inf (sinh overflow for huge compressions).
	lo, hi := lnMinRho, math.Min(y0, lnMaxRho)
	y := hi
	for range 200 {
		fy, dfy := f(y)
		if fy == 0 {
			return y, nil
		}
		if fy > 0 {
			hi = y
		} else {
			lo = y
		}
		yn := y - fy/dfy
		if !(yn > lo && yn < hi) { // also catches NaN from Inf/Inf
			yn = 0.5 * (lo + hi)
		}
		if math.Abs(yn-y) <= 4*epsilon*math.Max(1, math.Abs(y)) || hi-lo <= 4*epsilon*math.Max(1, math.Abs(y)) {
			return yn, nil
		}
		y = yn
	}
	// Unreachable in practice: bisection alone halves the ≈1400-wide bracket
	// to rounding level in under 70 steps.
	return y, nil
}

const epsilon = 0x1p-52 // float64 machine epsilon

// Sample returns the exact state at the similarity coordinate ξ = (x − x0)/t
// (code velocity units). At a shock it returns the star state; a NaN ξ gives
// a NaN state.
//
// Inside the left fan the u − c characteristics fan out from the origin, so
// ξ = u − c, i.e. u = ξ + c, and J₊ = u + c ln ρ = uL + c ln ρL gives
// ρ = ρL exp(−(u − uL)/c). In the right fan ξ = u + c, u = ξ − c and
// J₋ = u − c ln ρ = uR − c ln ρR gives ρ = ρR exp((u − uR)/c).
func (r *Riemann) Sample(xi float64) State {
	if math.IsNaN(xi) {
		return State{math.NaN(), math.NaN()}
	}
	c := r.C
	// The star velocity separates the waves: every edge of the left wave is
	// below u* (fan tail u* − c; shock u* − S_L = c sqrt(ρL/ρ*) > 0) and every
	// edge of the right wave above it.
	if xi < r.Star.U {
		w := r.Left
		switch {
		case xi < w.Head:
			return r.L
		case xi < w.Tail: // inside the fan (never for a shock)
			return State{Rho: r.L.Rho * math.Exp((w.Head-xi)/c), U: xi + c}
		}
		return r.Star
	}
	w := r.Right
	switch {
	case xi > w.Head:
		return r.R
	case xi > w.Tail:
		return State{Rho: r.R.Rho * math.Exp((xi-w.Head)/c), U: xi - c}
	}
	return r.Star
}

// CellAverage returns the exact solution averaged over the cell [xa, xb] at
// time t, both in code units, for a discontinuity initially at x0: Rho is the
// mean density ⟨ρ⟩ and U the mass-weighted mean velocity ⟨ρu⟩/⟨ρ⟩ — the
// velocity a finite-volume code reports from its cell-averaged conserved
// variables, so L1 errors against it are fair at shocks and fans. For the
// plain averages of the conserved variables use CellAverageConserved.
//
// Requires xa ≤ xb and t ≥ 0 (otherwise the result is NaN). A zero-width cell
// returns the point value; t = 0 averages the initial step.
func (r *Riemann) CellAverage(xa, xb, x0, t float64) State {
	rho, mom := r.CellAverageConserved(xa, xb, x0, t)
	return State{Rho: rho, U: mom / rho}
}

// CellAverageConserved returns the exact cell averages ⟨ρ⟩ (code density
// units) and ⟨ρu⟩ (code density × velocity units) over [xa, xb] at time t,
// for a discontinuity initially at x0. Same conditions as CellAverage.
//
// The averages are analytic: the solution is piecewise constant except in the
// fans, where ρ is an exponential and u linear in ξ, and x = x0 + ξt maps the
// cell average onto an average over [ξa, ξb] (see fanIntegrals). The result is
// accurate to a few ulps relative to the magnitudes involved.
func (r *Riemann) CellAverageConserved(xa, xb, x0, t float64) (rho, mom float64) {
	if !(xa <= xb) || !(t >= 0) || math.IsNaN(x0) || math.IsInf(xa, 0) || math.IsInf(xb, 0) {
		return math.NaN(), math.NaN()
	}
	if t == 0 {
		// Initial step: L on x < x0, R on x > x0.
		if xa == xb {
			s := r.R
			if xa < x0 {
				s = r.L
			}
			return s.Rho, s.Rho * s.U
		}
		wl := math.Max(0, math.Min(xb, x0)-xa)
		wr := math.Max(0, xb-math.Max(xa, x0))
		w := wl + wr
		return (wl*r.L.Rho + wr*r.R.Rho) / w, (wl*r.L.Rho*r.L.U + wr*r.R.Rho*r.R.U) / w
	}
	a, b := (xa-x0)/t, (xb-x0)/t
	if a == b {
		s := r.Sample(a)
		return s.Rho, s.Rho * s.U
	}

	// Region edges in ξ; a shock gives a zero-width fan region, skipped below.
	e1, e2 := r.Left.Head, r.Left.Tail
	e3, e4 := r.Right.Tail, r.Right.Head
	var mass, p float64
	constant := func(lo, hi float64, s State) {
		if w := math.Min(hi, b) - math.Max(lo, a); w > 0 {
			mass += w * s.Rho
			p += w * s.Rho * s.U
		}
	}
	inf := math.Inf(1)
	constant(-inf, e1, r.L)
	constant(e2, e3, r.Star)
	constant(e4, inf, r.R)
	c := r.C
	if lo, hi := math.Max(e1, a), math.Min(e2, b); hi > lo {
		// Left fan: ρ falls with ξ, so anchor at the left end lo, where
		// ρ = ρL exp((e1 − lo)/c), u = lo + c, and ξ = lo + c z.
		rho0 := r.L.Rho * math.Exp((e1-lo)/c)
		m, q := fanIntegrals(rho0, lo+c, c, (hi-lo)/c)
		mass += m
		p += q
	}
	if lo, hi := math.Max(e3, a), math.Min(e4, b); hi > lo {
		// Right fan: ρ rises with ξ, so anchor at the right end hi, where
		// ρ = ρR exp((hi − e4)/c), u = hi − c, and ξ = hi − c z; mirroring
		// u → −u maps it onto the left-fan integrals.
		rho0 := r.R.Rho * math.Exp((hi-e4)/c)
		m, q := fanIntegrals(rho0, -(hi - c), c, (hi-lo)/c)
		mass += m
		p -= q
	}
	w := b - a
	return mass / w, p / w
}

// fanIntegrals returns ∫ρ dξ and ∫ρu dξ over a piece of a fan on which, with
// ξ = ξ0 + c z for z ∈ [0, Z], ρ = rho0 e^{−z} and u = u0 + c z:
//
//	∫ρ dξ  = c rho0 ∫₀^Z e^{−z} dz       = c rho0 E1(Z),
//	∫ρu dξ = c rho0 ∫₀^Z (u0 + cz)e^{−z} dz = c rho0 (u0 E1(Z) + c E2(Z)),
//
// with E1(Z) = 1 − e^{−Z} and E2(Z) = ∫₀^Z z e^{−z} dz = 1 − (1 + Z)e^{−Z}.
// Both are evaluated without cancellation (expm1, and a series for E2 at small
// Z), so thin slices of a fan keep full relative accuracy.
func fanIntegrals(rho0, u0, c, z float64) (m, p float64) {
	e1 := -math.Expm1(-z)
	var e2 float64
	if z < 1 {
		// E2(Z) = Σ_{n≥0} (−1)^n Z^{n+2} / (n! (n+2)), from integrating the
		// series of z e^{−z} term by term. Terms fall like Z^n/n!.
		term := z * z // (−1)^n Z^{n+2}/n!
		for n := 0; n < 40; n++ {
			d := term / float64(n+2)
			e2 += d
			if math.Abs(d) <= 1e-17*math.Abs(e2) {
				break
			}
			term *= -z / float64(n+1)
		}
	} else {
		e2 = e1 - z*math.Exp(-z)
	}
	return c * rho0 * e1, c * rho0 * (u0*e1 + c*e2)
}
