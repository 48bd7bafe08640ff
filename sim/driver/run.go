package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/turbindex/turbindex/internal/buildinfo"
	"github.com/turbindex/turbindex/internal/progress"
	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/hydro"
	"github.com/turbindex/turbindex/sim/mesh"
	"github.com/turbindex/turbindex/sim/snapshot"
	"github.com/turbindex/turbindex/sim/units"
)

// Options are the run's connections to the outside world.
type Options struct {
	Progress    io.Writer     // where a terminal progress bar is drawn (usually os.Stderr)
	Log         *slog.Logger  // batch-log progress lines; nil for none
	LogInterval time.Duration // time between progress log lines
	// Checkpoint is the file the run saves its state to when the context is
	// cancelled (SIGTERM, SIGUSR1) or every CheckpointEvery, and resumes
	// from if it exists. Empty: no checkpoints; cancellation is an error.
	Checkpoint      string
	CheckpointEvery time.Duration // 0: only when stopped
	// SetupDone, if not nil, is called once by rank 0 when the set-up
	// (initial conditions or checkpoint, the run's memory peak) is over, so
	// that a caller running several simulations can start their set-ups
	// one at a time.
	SetupDone func()
	// Fault, for tests of failure handling only: the named rank fails on
	// purpose at the named point ("start" or "step:N").
	Fault Fault
}

// Fault injects a failure into one rank.
type Fault struct {
	Rank int
	At   string // "" (none), "start", or "step:N"
}

// Result describes a finished run, as seen by rank 0.
type Result struct {
	Path   string
	Header snapshot.Header
	// Totals over the box in code units (mass ρ0 L³, momentum ρ0 L³ c_s) at
	// the start and at the end, and the scale Σ|ρv| at the start against
	// which momentum errors are measured.
	MassStart, MassEnd         float64
	MomentumStart, MomentumEnd [3]float64
	MomentumScale              float64
	// CellUpdatesPerSecond is cells × steps / wall time of the time loop.
	CellUpdatesPerSecond float64
	// ExchangeFraction is the share of the time loop spent in ghost
	// exchanges (waiting included), averaged over ranks.
	ExchangeFraction float64
	// Seconds of wall time of this segment spent setting up (initial
	// conditions or reading the checkpoint), in the time loop (checkpoints
	// included) and writing the snapshot, on rank 0.
	SetupSeconds, LoopSeconds, WriteSeconds float64
	// PeakRSS is each rank's peak resident memory, bytes.
	PeakRSS []float64
	// Resumed reports whether the run started from a checkpoint, and
	// Restarts how many times its simulation had been resumed in all.
	Resumed  bool
	Restarts int
}

// ConfigError is a configuration that Validate refused: the run did no
// work. It prints as the validation error.
type ConfigError struct{ Err error }

func (e ConfigError) Error() string { return e.Err.Error() }
func (e ConfigError) Unwrap() error { return e.Err }

// Run validates cfg (failing with a ConfigError), performs the simulation
// on cfg.Ranks in-process ranks and writes its snapshot.
func Run(ctx context.Context, cfg Config, opt Options) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, ConfigError{err}
	}
	var res *Result
	err := comm.NewLocal(cfg.Ranks).Run(func(c comm.Comm) error {
		r, err := RunRank(ctx, c, cfg, opt)
		if c.Rank() == 0 {
			res = r
		}
		return err
	})
	return res, err
}

// RunRank is rank c's part of the simulation described by cfg, whose Ranks
// must equal c.Size(); every rank calls it. Nothing is shared between ranks
// but through c, so the same code runs goroutine ranks and MPI processes.
// Rank 0 returns the Result; the others return nil.
func RunRank(ctx context.Context, c comm.Comm, cfg Config, opt Options) (*Result, error) {
	if cfg.Ranks != c.Size() {
		return nil, fmt.Errorf("configuration for %d ranks run on %d", cfg.Ranks, c.Size())
	}
	start := time.Now()
	if opt.Fault.Rank == c.Rank() && opt.Fault.At == "start" {
		return nil, fmt.Errorf("injected fault at start-up")
	}
	faultStep := -1
	if opt.Fault.Rank == c.Rank() {
		fmt.Sscanf(opt.Fault.At, "step:%d", &faultStep)
	}
	sys, err := units.NewSystem(cfg.BoxPc, cfg.Rho0, cfg.TempK, cfg.Mu)
	if err != nil {
		return nil, err
	}
	dec, err := mesh.Decompose(cfg.cells(), cfg.Ranks)
	if err != nil {
		return nil, err
	}
	gen := cfg.generator()
	tEnd := cfg.TEndMyr * units.Myr / sys.Time()
	dx := 1 / float64(cfg.Grid) // code units: the box edge is 1
	s, err := hydro.NewSolver(c, dec, gen.Boundaries(), [3]float64{dx, dx, dx}, cfg.CFL, cfg.Order)
	if err != nil {
		return nil, err
	}
	var bk bookkeeping
	resumed := false
	if opt.Checkpoint != "" {
		if resumed, bk, err = resume(opt.Checkpoint, cfg, s); err != nil {
			return nil, err
		}
	}
	if !resumed {
		if err := gen.Init(c, dec, s.U); err != nil {
			return nil, err
		}
		// The initial-condition buffers are garbage now; return them before
		// the run so that the peak memory is the solver's, not both.
		debug.FreeOSMemory()
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	if opt.SetupDone != nil && c.Rank() == 0 {
		opt.SetupDone()
	}
	res := &Result{Path: cfg.Out, Resumed: resumed, Restarts: bk.restarts}
	if !resumed {
		if bk.massStart, bk.momentumStart, bk.momentumScale, err = totals(c, s); err != nil {
			return nil, err
		}
	}
	if resumed && c.Rank() == 0 && opt.Log != nil {
		opt.Log.Info("resumed from checkpoint", "path", opt.Checkpoint, "step", s.Steps,
			"t_myr", s.Time*sys.Time()/units.Myr, "restart", bk.restarts)
	}
	var prog *progress.Progress
	if c.Rank() == 0 {
		prog = progress.New(opt.Progress, opt.Log, "sim "+cfg.Problem, tEnd, opt.LogInterval)
	}
	cells := float64(dec.Cells[0] * dec.Cells[1] * dec.Cells[2])
	t0 := time.Now()
	setup := t0.Sub(start).Seconds()
	lastSave := t0
	steps0 := s.Steps
	for done := false; !done; {
		save, stop, err := decide(c, ctx, opt, &lastSave)
		if err != nil {
			return nil, err
		}
		if stop && opt.Checkpoint == "" {
			return nil, fmt.Errorf("interrupted at step %d, t = %.4g Myr: %w", s.Steps, s.Time*sys.Time()/units.Myr, context.Canceled)
		}
		if save {
			bk.wall += time.Since(start).Seconds()
			start = time.Now()
			if err := saveCheckpoint(c, opt.Checkpoint, cfg, dec, s, bk); err != nil {
				return nil, err
			}
			if c.Rank() == 0 && opt.Log != nil {
				opt.Log.Info("checkpoint written", "path", opt.Checkpoint, "step", s.Steps, "t_myr", s.Time*sys.Time()/units.Myr)
			}
			if stop {
				return nil, fmt.Errorf("stopped at step %d, t = %.4g Myr: %w", s.Steps, s.Time*sys.Time()/units.Myr, ErrCheckpointed)
			}
		}
		if s.Steps == faultStep {
			return nil, fmt.Errorf("injected fault at step %d", s.Steps)
		}
		dt, err := s.Timestep()
		if err != nil {
			return nil, err
		}
		if s.Time+dt >= tEnd {
			dt, done = tEnd-s.Time, true
		}
		if err := s.Step(dt); err != nil {
			return nil, err
		}
		if prog != nil {
			prog.Update(s.Time,
				slog.Int("step", s.Steps),
				slog.Float64("t_myr", s.Time*sys.Time()/units.Myr),
				slog.Float64("dt_myr", dt*sys.Time()/units.Myr),
				slog.Float64("mcells_per_s", cells*float64(s.Steps-steps0)/time.Since(t0).Seconds()/1e6))
		}
	}
	loop := time.Since(t0).Seconds()
	m1, p1, _, err := totals(c, s)
	if err != nil {
		return nil, err
	}
	xfrac, err := c.AllreduceSum(s.Bound.Seconds / loop / float64(c.Size()))
	if err != nil {
		return nil, err
	}
	res.MassStart, res.MomentumStart, res.MomentumScale = bk.massStart, bk.momentumStart, bk.momentumScale
	res.MassEnd, res.MomentumEnd = m1, p1
	res.CellUpdatesPerSecond = cells * float64(s.Steps-steps0) / loop
	res.ExchangeFraction = xfrac
	if prog != nil {
		prog.Finish(slog.Int("steps", s.Steps), slog.Float64("mcells_per_s", res.CellUpdatesPerSecond/1e6))
	}

	res.Header = header(cfg, dec, s, sys, bk.wall+time.Since(start).Seconds())
	tw := time.Now()
	if err := writeSnapshot(c, cfg, dec, s, sys, &res.Header); err != nil {
		return nil, err
	}
	res.SetupSeconds, res.LoopSeconds, res.WriteSeconds = setup, loop, time.Since(tw).Seconds()
	if opt.Checkpoint != "" && c.Rank() == 0 {
		// The snapshot is in place: the checkpoint has served its purpose.
		if err := os.Remove(opt.Checkpoint); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if res.PeakRSS, err = peakRSS(c); err != nil {
		return nil, err
	}
	if c.Rank() != 0 {
		return nil, nil
	}
	return res, nil
}

// header returns the snapshot header of the run cfg on dec, with solver s
// at its final state in the unit system sys, after wall seconds of wall
// time in all; the field table is the writer's.
func header(cfg Config, dec mesh.Decomposition, s *hydro.Solver, sys units.System, wall float64) snapshot.Header {
	h := snapshot.Header{
		CodeVersion: buildinfo.Version(),
		Problem:     cfg.Problem,
		Params:      params(cfg),
		Units: map[string]string{
			"length": "cm", "time": "s", "density": "g cm^-3", "velocity": "cm s^-1", "column_density": "g cm^-2",
		},
		Grid:          dec.Cells,
		Steps:         s.Steps,
		TimeS:         s.Time * sys.Time(),
		Ranks:         dec.Size(),
		Decomposition: dec.Ranks,
		WallSeconds:   wall,
	}
	for a := range 3 {
		h.BoxCm[a] = float64(dec.Cells[a]) * s.Dx[a] * sys.Length
	}
	h.TimeMyr = h.TimeS / units.Myr
	return h
}

// decide returns, identically on every rank, whether to save a checkpoint
// before the next step and whether to stop after it: stop when any rank's
// context is cancelled (signals reach ranks at different moments), save
// then, or when rank 0's clock says a periodic checkpoint is due.
func decide(c comm.Comm, ctx context.Context, opt Options, lastSave *time.Time) (save, stop bool, err error) {
	const (
		stopNow = 0
		saveNow = 1
		carryOn = 2
	)
	v := float64(carryOn)
	if ctx.Err() != nil {
		v = stopNow
	} else if c.Rank() == 0 && opt.Checkpoint != "" && opt.CheckpointEvery > 0 && time.Since(*lastSave) >= opt.CheckpointEvery {
		v = saveNow
	}
	if v, err = c.AllreduceMin(v); err != nil {
		return false, false, err
	}
	if v != carryOn {
		*lastSave = time.Now()
	}
	return v <= saveNow && opt.Checkpoint != "", v == stopNow, nil
}

// totals sums mass and momentum over the box (code units) and Σ|ρv|.
func totals(c comm.Comm, s *hydro.Solver) (mass float64, mom [3]float64, scale float64, err error) {
	b := s.Block
	var m, absP float64
	var p [3]float64
	for k := range b.Size[2] {
		for j := range b.Size[1] {
			c0 := b.Index(0, j, k)
			for i := c0; i < c0+b.Size[0]; i++ {
				m += s.U.Rho[i]
				for d := range 3 {
					p[d] += s.U.M[d][i]
					absP += math.Abs(s.U.M[d][i])
				}
			}
		}
	}
	vol := s.Dx[0] * s.Dx[1] * s.Dx[2]
	if mass, err = c.AllreduceSum(m * vol); err != nil {
		return
	}
	for d := range 3 {
		if mom[d], err = c.AllreduceSum(p[d] * vol); err != nil {
			return
		}
	}
	scale, err = c.AllreduceSum(absP * vol)
	return
}

// peakRSS returns every rank's peak resident set size in bytes.
func peakRSS(c comm.Comm) ([]float64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return nil, fmt.Errorf("getrusage: %w", err)
	}
	all := make([]float64, c.Size())
	counts := make([]int, c.Size())
	for i := range counts {
		counts[i] = 1
	}
	err := c.Allgatherv([]float64{float64(ru.Maxrss) * 1024}, all, counts) // Maxrss is in KiB on Linux
	return all, err
}
