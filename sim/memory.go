package main

import (
	"fmt"
	"math"
	"runtime/debug"
	"time"

	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/internal/resources"
	"github.com/turbindex/turbindex/sim/driver"
)

// simMemory estimates the memory of the simulation cfg; a grid too large
// for any machine to index is a command-line error.
func simMemory(cfg driver.Config, checkpoint bool) (driver.Memory, error) {
	if err := cfg.ValidateParams(); err != nil {
		return driver.Memory{}, cli.Usage(flagError(err))
	}
	m, err := cfg.EstimateMemory(checkpoint)
	if err != nil {
		return m, cli.Usage(flagError(err))
	}
	return m, nil
}

// fitRun refuses a simulation that would not fit in the memory this
// process may use: need is its estimate for this process (all in-process
// ranks, or this node's MPI ranks). It then sets the garbage collector's
// soft limit to the budget, so that garbage never pushes the process over.
func fitRun(cfg driver.Config, need int64, lim resources.Limits) error {
	what := fmt.Sprintf("a %d³ simulation on %d rank%s", cfg.Grid, cfg.Ranks, plural(cfg.Ranks))
	if err := lim.Fit(what, need, runRemedy(cfg, lim)); err != nil {
		return err
	}
	debug.SetMemoryLimit(lim.Memory)
	return nil
}

// runRemedy says how to make a simulation fit: the MPI rank count whose
// ranks each fit, a smaller grid, or more memory.
func runRemedy(cfg driver.Config, lim resources.Limits) string {
	mpi := ""
	for r := 2; r <= 1<<20; r *= 2 {
		c := cfg
		c.Ranks = r
		m, err := c.EstimateMemory(false)
		if err != nil {
			break
		}
		if m.PerRank <= lim.Memory {
			mpi = fmt.Sprintf("spread it over MPI ranks on several nodes (%d ranks need %s each), ", r, resources.FormatBytes(m.PerRank))
			break
		}
	}
	return mpi + "use a smaller --grid, or allow more memory (--memory, sbatch --mem)"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// checkpointInterval converts --checkpoint-every (minutes) to a duration,
// refusing what no duration can hold.
func checkpointInterval(minutes float64) (time.Duration, error) {
	if !(minutes >= 0) || minutes > float64(math.MaxInt64)/float64(time.Minute) {
		return 0, fmt.Errorf("--checkpoint-every %g: want minutes between 0 and %.0f", minutes, float64(math.MaxInt64)/float64(time.Minute))
	}
	return time.Duration(minutes * float64(time.Minute)), nil
}
