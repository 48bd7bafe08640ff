// Package physics defines, once, the physical parameters of a simulated
// turbulent box: the struct that a run configuration, a campaign manifest
// and a snapshot header carry, its defaults and the limits it must respect.
//
// It is a leaf package (the standard library only), so that the campaign
// vocabulary, and through it train and analysis, can speak of a box's
// parameters without importing the solver. The JSON keys in the tags are the
// keys of the snapshot header's "params" object and of the manifest's
// parameter lines; the struct order is the order of the header's keys.
package physics

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Box holds the parameters every problem shares: the grid, the time to
// simulate, the gas and the numerical scheme.
type Box struct {
	Grid    int      `json:"grid"`     // cells along each axis of the cube
	TEndMyr float64  `json:"tend_myr"` // simulated time, Myr
	BoxPc   float64  `json:"box_pc"`   // box edge, pc
	TempK   float64  `json:"temp_k"`   // gas temperature, K
	Mu      float64  `json:"mu"`       // mean molecular weight
	Rho0    float64  `json:"rho0_cgs"` // mean density, g cm⁻³
	CFL     float64  `json:"cfl"`      // Courant number
	Order   int      `json:"order"`    // 1: donor cell; 2: VL2 + PLM
	Fields  []string `json:"fields"`   // cubes stored besides the Σ maps (CubeFields); nil for none
}

// Turbulence holds the parameters of the initial velocity field of the
// turbulence problem.
type Turbulence struct {
	Index float64 `json:"index"` // spectral index n, P(k) ∝ k^−n (dimensionless)
	Seed  uint64  `json:"seed"`  // random seed of the velocity field
	Mach  float64 `json:"mach"`  // 3-D rms Mach number
	KMin  float64 `json:"kmin"`  // smallest |k| with power, units of 2π/L
	KMax  float64 `json:"kmax"`  // largest |k| with power, units of 2π/L; 0 means N/2
}

// Params are the physical parameters of one turbulent box.
type Params struct {
	Box
	Turbulence
}

// Defaults returns the parameters of the talk: a 64³ grid of a 10 pc box of
// 10 K gas (μ = 2.37) with mean density 6.77e-22 g cm⁻³, stirred to Mach
// 1.41 with a Kolmogorov spectrum over |k| ≥ 1, evolved for 0.5 Myr at
// CFL 0.3 with the second-order scheme.
func Defaults() Params {
	return Params{
		Box: Box{Grid: 64, TEndMyr: 0.5, BoxPc: 10, TempK: 10, Mu: 2.37, Rho0: 6.77e-22, CFL: 0.3, Order: 2},
		Turbulence: Turbulence{
			Index: 11.0 / 3, Seed: 1, Mach: 1.41, KMin: 1,
		},
	}
}

// Limits.
const (
	// MinGrid is the smallest grid accepted: below it the driven band and
	// the images cut from the Σ maps are meaninglessly small.
	MinGrid = 16
	// MaxGrid is the largest grid the turbulence generator supports
	// (N³ must fit an int and every wavevector component its 32-bit
	// counter).
	MaxGrid = 1 << 20
	// MaxCFL is the largest stable Courant number of the unsplit scheme
	// on a cube (3-D): the predictor–corrector has no corner-transport
	// terms (hydro.MaxCFL gives the limit for fewer dimensions).
	MaxCFL = 1.0 / 3
	// MinIndex and MaxIndex bound the spectral index.
	MinIndex, MaxIndex = 1.0, 6.0
)

// CubeFields lists the optional cube fields a box can store.
var CubeFields = []string{"density", "velocity"}

// Error is an invalid parameter: its field (the JSON key), its value as
// text and what is wrong. It prints as "field value: problem".
type Error struct {
	Field, Value, Msg string
}

func (e *Error) Error() string { return e.Field + " " + e.Value + ": " + e.Msg }

// errorf returns an *Error for field with value v.
func errorf(field string, v any, format string, args ...any) error {
	return &Error{Field: field, Value: fmt.Sprint(v), Msg: fmt.Sprintf(format, args...)}
}

// Validate returns an *Error for the first invalid parameter of b.
func (b Box) Validate() error {
	finitePos := func(x float64) bool { return x > 0 && !math.IsInf(x, 0) }
	switch {
	case b.Grid < MinGrid:
		return errorf("grid", b.Grid, "must be at least %d", MinGrid)
	case b.Grid > MaxGrid:
		return errorf("grid", b.Grid, "must be at most %d", MaxGrid)
	case !finitePos(b.TEndMyr):
		return errorf("tend_myr", b.TEndMyr, "must be positive")
	case !finitePos(b.BoxPc):
		return errorf("box_pc", b.BoxPc, "must be positive and finite")
	case !finitePos(b.TempK):
		return errorf("temp_k", b.TempK, "must be positive and finite")
	case !finitePos(b.Mu):
		return errorf("mu", b.Mu, "must be positive and finite")
	case !finitePos(b.Rho0):
		return errorf("rho0_cgs", b.Rho0, "must be positive and finite")
	case !(b.CFL > 0 && b.CFL <= MaxCFL):
		return errorf("cfl", b.CFL, "must be in (0, %.4g], the stability limit of the unsplit scheme in 3-D", MaxCFL)
	case b.Order != 1 && b.Order != 2:
		return errorf("order", b.Order, "must be 1 or 2")
	}
	for i, f := range b.Fields {
		if !slices.Contains(CubeFields, f) {
			return errorf("fields", strings.Join(b.Fields, ","), "unknown field %q, want some of %s", f, strings.Join(CubeFields, ","))
		}
		if slices.Contains(b.Fields[:i], f) {
			return errorf("fields", strings.Join(b.Fields, ","), "field %q listed twice", f)
		}
	}
	return nil
}

// Validate returns an *Error for the first invalid parameter of t on a
// grid of n³ cells.
func (t Turbulence) Validate(n int) error {
	switch {
	case !(t.Index >= MinIndex && t.Index <= MaxIndex): // also rejects NaN
		return errorf("index", t.Index, "spectral index must be in [%g, %g]", MinIndex, MaxIndex)
	case !(t.Mach > 0) || math.IsInf(t.Mach, 0):
		return errorf("mach", t.Mach, "must be positive")
	case !(t.KMin >= 0) || math.IsInf(t.KMin, 0):
		return errorf("kmin", t.KMin, "must be ≥ 0 and finite")
	case !(t.KMax >= 0) || math.IsInf(t.KMax, 0):
		return errorf("kmax", t.KMax, "must be ≥ 0 (0 means N/2) and finite")
	}
	if kmax := t.BandMax(n); t.KMin > kmax {
		return errorf("kmax", t.KMax, "the band is empty: KMin = %g > KMax = %g on a %d³ grid", t.KMin, kmax, n)
	}
	return nil
}

// BandMax returns the largest |k| with power on an n³ grid, units of 2π/L:
// KMax, or N/2 (integer division) when KMax is 0.
func (t Turbulence) BandMax(n int) float64 {
	if t.KMax <= 0 {
		return float64(n / 2)
	}
	return t.KMax
}

// Validate returns an *Error for the first invalid parameter of p.
func (p Params) Validate() error {
	if err := p.Box.Validate(); err != nil {
		return err
	}
	return p.Turbulence.Validate(p.Grid)
}
