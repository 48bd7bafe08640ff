// Package driver runs one simulation from a Config: it validates the
// parameters, builds the problem, starts the ranks, advances the solver to
// t_end with progress reports and writes the snapshot.
package driver

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/turbindex/turbindex/sim/mesh"
	"github.com/turbindex/turbindex/sim/physics"
	"github.com/turbindex/turbindex/sim/problem"
	"github.com/turbindex/turbindex/sim/snapshot"
	"github.com/turbindex/turbindex/sim/turbulence"
)

// Config is everything that defines one simulation: the problem, the
// physical parameters of the box, those of the verification problems, and
// how to execute it. Its JSON form is stored in the snapshot header as the
// run's parameters (physics.Params in their struct order after "problem").
type Config struct {
	Problem string `json:"problem"` // turbulence, soundwave, shocktube or uniform
	physics.Params

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

// Defaults returns the configuration of the talk (physics.Defaults) for
// the turbulence problem on one rank, and the defaults of the verification
// problems.
func Defaults() Config {
	return Config{
		Problem: "turbulence", Params: physics.Defaults(),
		Amp: 1e-6, Wave: "x", Direction: "right",
		Axis: "x", RhoLeft: 1, RhoRight: 0.125,
		Ranks: 1, Out: "run.tsnap",
	}
}

// Turbulence returns the configuration of a turbulence run with parameters
// p writing out (Force true: the caller decided to redo it) on one rank.
func Turbulence(p physics.Params, out string) Config {
	c := Defaults()
	c.Params, c.Out, c.Force = p, out, true
	return c
}

// Validate checks every parameter and that the output can be written, so
// that a bad run fails in one line before any work. Errors are
// *physics.Error naming the field (its JSON key, or ranks and out) and its
// value.
func (c Config) Validate() error {
	if err := c.ValidateParams(); err != nil {
		return err
	}
	if err := snapshot.CheckWritable(c.Out, c.Force); err != nil {
		return &physics.Error{Field: "out", Value: c.Out, Msg: err.Error()}
	}
	return nil
}

// fieldError returns a *physics.Error for field with value v.
func fieldError(field string, v any, format string, args ...any) error {
	return &physics.Error{Field: field, Value: fmt.Sprint(v), Msg: fmt.Sprintf(format, args...)}
}

// ValidateParams is Validate without the check that the output can be
// written (which probes the file system): what every MPI rank checks, while
// rank 0 alone probes the output.
func (c Config) ValidateParams() error {
	if !slices.Contains(Problems, c.Problem) {
		return fieldError("problem", strconv.Quote(c.Problem), "unknown, want one of %s", strings.Join(Problems, ", "))
	}
	if err := c.Box.Validate(); err != nil {
		return err
	}
	if c.Ranks < 1 {
		return fieldError("ranks", c.Ranks, "must be at least 1")
	}
	if _, err := mesh.Decompose(c.cells(), c.Ranks); err != nil {
		return fieldError("ranks", c.Ranks, "%v", err)
	}
	switch c.Problem {
	case "turbulence":
		if err := c.Turbulence.Validate(c.Grid); err != nil {
			return err
		}
	case "soundwave":
		if !(c.Amp > 0 && c.Amp < 1) {
			return fieldError("amp", c.Amp, "must be in (0, 1)")
		}
		if c.Wave != "x" && c.Wave != "diagonal" {
			return fieldError("wave", strconv.Quote(c.Wave), "want x or diagonal")
		}
		if c.Direction != "right" && c.Direction != "left" {
			return fieldError("direction", strconv.Quote(c.Direction), "want right or left")
		}
	case "shocktube":
		if _, err := axisIndex(c.Axis); err != nil {
			return err
		}
		for _, rho := range []struct {
			field string
			v     float64
		}{{"rho_left", c.RhoLeft}, {"rho_right", c.RhoRight}} {
			if !(rho.v > 0) || math.IsInf(rho.v, 0) {
				return fieldError(rho.field, rho.v, "densities must be positive and finite")
			}
		}
		for _, vel := range []struct {
			field string
			v     float64
		}{{"vel_left", c.VelLeft}, {"vel_right", c.VelRight}} {
			if math.IsNaN(vel.v) || math.IsInf(vel.v, 0) {
				return fieldError(vel.field, vel.v, "must be finite")
			}
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
		return 0, fieldError("axis", strconv.Quote(s), "want x, y or z")
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
