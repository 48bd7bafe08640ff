// Package driver runs one simulation from a Config: it validates the
// parameters, builds the problem, starts the ranks, advances the solver to
// t_end with progress reports and writes the snapshot.
package driver

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/turbindex/turbindex/sim/hydro"
	"github.com/turbindex/turbindex/sim/mesh"
	"github.com/turbindex/turbindex/sim/problem"
	"github.com/turbindex/turbindex/sim/snapshot"
	"github.com/turbindex/turbindex/sim/turbulence"
	"github.com/turbindex/turbindex/sim/units"
)

// Config is everything that defines one simulation: the flags of `sim run`.
// Its JSON form is stored in the snapshot header as the run's parameters.
type Config struct {
	Problem string   `json:"problem"`  // turbulence, soundwave, shocktube or uniform
	Grid    int      `json:"grid"`     // cells along each axis of the cube
	TEndMyr float64  `json:"tend_myr"` // simulated time, Myr
	BoxPc   float64  `json:"box_pc"`   // box edge, pc
	TempK   float64  `json:"temp_k"`   // gas temperature, K
	Mu      float64  `json:"mu"`       // mean molecular weight
	Rho0    float64  `json:"rho0_cgs"` // mean density, g cm⁻³
	CFL     float64  `json:"cfl"`      // Courant number
	Order   int      `json:"order"`    // 1: donor cell; 2: VL2 + PLM
	Fields  []string `json:"fields"`   // cubes to store besides the Σ maps: density, velocity

	// Turbulence.
	Index float64 `json:"index"` // spectral index n, P(k) ∝ k^−n
	Seed  uint64  `json:"seed"`
	Mach  float64 `json:"mach"` // 3-D rms Mach number
	KMin  float64 `json:"kmin"` // driven band, units of 2π/L
	KMax  float64 `json:"kmax"` // 0 means N/2

	// Sound wave.
	Amp       float64 `json:"amp"`       // relative density amplitude
	Wave      string  `json:"wave"`      // x or diagonal
	Direction string  `json:"direction"` // right (+k) or left (−k)

	// Shock tube.
	Axis     string  `json:"axis"`      // x, y or z
	RhoLeft  float64 `json:"rho_left"`  // units of rho0
	RhoRight float64 `json:"rho_right"` // units of rho0
	VelLeft  float64 `json:"vel_left"`  // units of the sound speed
	VelRight float64 `json:"vel_right"` // units of the sound speed

	// Execution; these do not change the results and are not stored as
	// parameters.
	Ranks int    `json:"-"`
	Out   string `json:"-"`
	Force bool   `json:"-"`
}

// Problems lists the problem generators.
var Problems = []string{"turbulence", "soundwave", "shocktube", "uniform"}

// CubeFields lists the optional cube fields.
var CubeFields = []string{"density", "velocity"}

// Defaults returns the configuration of the talk: a 10 pc box of 10 K gas
// with mean density 6.77e-22 g cm⁻³ stirred to Mach 1.41 with a Kolmogorov
// spectrum, evolved for 0.5 Myr.
func Defaults() Config {
	return Config{
		Problem: "turbulence", Grid: 64, TEndMyr: 0.5, BoxPc: 10, TempK: 10, Mu: 2.37,
		Rho0: 6.77e-22, CFL: 0.3, Order: 2,
		Index: 11.0 / 3, Seed: 1, Mach: 1.41, KMin: 1,
		Amp: 1e-6, Wave: "x", Direction: "right",
		Axis: "x", RhoLeft: 1, RhoRight: 0.125,
		Ranks: 1, Out: "run.tsnap",
	}
}

// MinGrid is the smallest grid accepted: below it the driven band and the
// images cut from the Σ maps are meaninglessly small.
const MinGrid = 16

// Validate checks every parameter and that the output can be written, so
// that a bad run fails in one line before any work. Errors name the flag.
func (c Config) Validate() error {
	if err := c.ValidateParams(); err != nil {
		return err
	}
	if err := snapshot.CheckWritable(c.Out, c.Force); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// ValidateParams is Validate without the check that the output can be
// written (which probes the file system): what every MPI rank checks, while
// rank 0 alone probes the output.
func (c Config) ValidateParams() error {
	if !slices.Contains(Problems, c.Problem) {
		return fmt.Errorf("--problem %q: unknown, want one of %s", c.Problem, strings.Join(Problems, ", "))
	}
	if c.Grid < MinGrid {
		return fmt.Errorf("--grid %d: must be at least %d", c.Grid, MinGrid)
	}
	if c.Ranks < 1 {
		return fmt.Errorf("--ranks %d: must be at least 1", c.Ranks)
	}
	if _, err := mesh.Decompose(c.cells(), c.Ranks); err != nil {
		return fmt.Errorf("--ranks %d: %w", c.Ranks, err)
	}
	if !(c.TEndMyr > 0) || math.IsInf(c.TEndMyr, 0) {
		return fmt.Errorf("--tend %g Myr: must be positive", c.TEndMyr)
	}
	if _, err := units.NewSystem(c.BoxPc, c.Rho0, c.TempK, c.Mu); err != nil {
		return err
	}
	if c.Order != 1 && c.Order != 2 {
		return fmt.Errorf("--order %d: must be 1 or 2", c.Order)
	}
	if lim := hydro.MaxCFL(c.cells()); !(c.CFL > 0 && c.CFL <= lim) {
		return fmt.Errorf("--cfl %g: must be in (0, %.4g], the stability limit of the unsplit scheme in 3-D", c.CFL, lim)
	}
	for _, f := range c.Fields {
		if !slices.Contains(CubeFields, f) {
			return fmt.Errorf("--fields %q: unknown field, want some of %s", f, strings.Join(CubeFields, ","))
		}
	}
	switch c.Problem {
	case "turbulence":
		if !(c.Index >= 1 && c.Index <= 6) {
			return fmt.Errorf("--index %g: spectral index must be in [1, 6]", c.Index)
		}
		if !(c.Mach > 0) || math.IsInf(c.Mach, 0) {
			return fmt.Errorf("--mach %g: must be positive", c.Mach)
		}
		if err := c.spectrum().Validate(c.Grid); err != nil {
			return fmt.Errorf("--kmin %g --kmax %g: %w", c.KMin, c.KMax, err)
		}
	case "soundwave":
		if !(c.Amp > 0 && c.Amp < 1) {
			return fmt.Errorf("--amp %g: must be in (0, 1)", c.Amp)
		}
		if c.Wave != "x" && c.Wave != "diagonal" {
			return fmt.Errorf("--wave %q: want x or diagonal", c.Wave)
		}
		if c.Direction != "right" && c.Direction != "left" {
			return fmt.Errorf("--direction %q: want right or left", c.Direction)
		}
	case "shocktube":
		if _, err := axisIndex(c.Axis); err != nil {
			return err
		}
		if !(c.RhoLeft > 0 && c.RhoRight > 0) || math.IsInf(c.RhoLeft+c.RhoRight, 0) {
			return fmt.Errorf("--rho-left %g --rho-right %g: densities must be positive", c.RhoLeft, c.RhoRight)
		}
		if math.IsNaN(c.VelLeft) || math.IsNaN(c.VelRight) || math.IsInf(c.VelLeft+c.VelRight, 0) {
			return fmt.Errorf("--vel-left %g --vel-right %g: must be finite", c.VelLeft, c.VelRight)
		}
	}
	return nil
}

func (c Config) cells() [3]int { return [3]int{c.Grid, c.Grid, c.Grid} }

func (c Config) spectrum() turbulence.Spectrum {
	return turbulence.Spectrum{Index: c.Index, KMin: c.KMin, KMax: c.KMax, Seed: c.Seed}
}

func axisIndex(s string) (int, error) {
	i := strings.Index("xyz", s)
	if len(s) != 1 || i < 0 {
		return 0, fmt.Errorf("--axis %q: want x, y or z", s)
	}
	return i, nil
}

// generator builds the problem generator of a validated Config.
func (c Config) generator() problem.Generator {
	switch c.Problem {
	case "turbulence":
		return problem.Turbulence{Spectrum: c.spectrum(), Mach: c.Mach}
	case "soundwave":
		return problem.SoundWave{Amp: c.Amp, Diagonal: c.Wave == "diagonal", Left: c.Direction == "left"}
	case "shocktube":
		a, _ := axisIndex(c.Axis)
		return problem.ShockTube{Axis: a, RhoL: c.RhoLeft, RhoR: c.RhoRight, VelL: c.VelLeft, VelR: c.VelRight}
	default:
		return problem.Uniform{}
	}
}
