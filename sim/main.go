// Command sim simulates decaying isothermal turbulence (and the verification
// problems) on domain-decomposed ranks and writes compressed snapshots.
//
//	sim run --problem turbulence --grid 64 --index 3.6667 --seed 7 --ranks 4 --out run.tsnap
//	sim inspect run.tsnap [--json] [--verify]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/internal/resources"
	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/comm/mpi"
	"github.com/turbindex/turbindex/sim/driver"
)

const usage = `usage: sim <command> [flags]

commands:
  run      simulate one box and write its snapshot (.tsnap)
  inspect  print a snapshot's header; --verify checks every chunk
  plan     write a campaign manifest (one row per simulation)
  task     run the manifest rows of one SLURM array task, with checkpoints
  status   count done, running, missing and corrupt simulations of a campaign
  export   write a snapshot's maps as FITS, .npy or PNG

Run 'sim <command> -h' for the flags of a command.
`

func main() {
	cli.Main("sim", usage, map[string]cli.Command{
		"run":     runCmd,
		"inspect": func(args []string) error { return inspectCmd(args, os.Stdout) },
		"plan":    func(args []string) error { return planCmd(args, os.Stdout) },
		"task":    taskCmd,
		"status":  func(args []string) error { return statusCmd(args, os.Stdout) },
		"export":  func(args []string) error { return exportCmd(args, os.Stdout) },
	}, func(err error) int {
		if errors.Is(err, driver.ErrCheckpointed) {
			return cli.ExitCheckpointed
		}
		return cli.ExitFailure
	})
}

func runCmd(args []string) error {
	cfg := driver.Defaults()
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&cfg.Problem, "problem", cfg.Problem, "problem: "+strings.Join(driver.Problems, ", "))
	fs.IntVar(&cfg.Grid, "grid", cfg.Grid, "cells `N` along each axis of the cube")
	fs.Float64Var(&cfg.Index, "index", cfg.Index, "turbulence spectral index `n`, P(k) ∝ k^-n (11/3 Kolmogorov, 4 Burgers)")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed of the initial velocity field")
	fs.IntVar(&cfg.Ranks, "ranks", cfg.Ranks, "in-process ranks (goroutines), split as a 3-D block decomposition")
	fs.StringVar(&cfg.Out, "out", cfg.Out, "output snapshot `path`")
	fs.Float64Var(&cfg.Mach, "mach", cfg.Mach, "3-D rms Mach number of the initial velocity field")
	fs.Float64Var(&cfg.TEndMyr, "tend", cfg.TEndMyr, "simulated time, `Myr`")
	fs.Float64Var(&cfg.BoxPc, "box", cfg.BoxPc, "box edge, `pc`")
	fs.Float64Var(&cfg.TempK, "temp", cfg.TempK, "gas temperature, `K`")
	fs.Float64Var(&cfg.Mu, "mu", cfg.Mu, "mean molecular weight")
	fs.Float64Var(&cfg.Rho0, "rho0", cfg.Rho0, "mean density, `g/cm3`")
	fs.Float64Var(&cfg.CFL, "cfl", cfg.CFL, "Courant number (at most 1/3 in 3-D)")
	fs.IntVar(&cfg.Order, "order", cfg.Order, "1: first-order donor cell; 2: VL2 predictor-corrector with PLM")
	fs.Var((*cli.Strings)(&cfg.Fields), "fields", "comma-separated cubes to store besides the Σ maps: density,velocity")
	fs.Float64Var(&cfg.KMin, "kmin", cfg.KMin, "smallest |k| with power, units of 2π/L")
	fs.Float64Var(&cfg.KMax, "kmax", cfg.KMax, "largest |k| with power, units of 2π/L (0: N/2)")
	fs.Float64Var(&cfg.Amp, "amp", cfg.Amp, "soundwave: relative density amplitude")
	fs.StringVar(&cfg.Wave, "wave", cfg.Wave, "soundwave: wave vector along x or diagonal")
	fs.StringVar(&cfg.Direction, "direction", cfg.Direction, "soundwave: right (+k) or left (-k)")
	fs.StringVar(&cfg.Axis, "axis", cfg.Axis, "shocktube: axis x, y or z")
	fs.Float64Var(&cfg.RhoLeft, "rho-left", cfg.RhoLeft, "shocktube: left density, units of rho0")
	fs.Float64Var(&cfg.RhoRight, "rho-right", cfg.RhoRight, "shocktube: right density, units of rho0")
	fs.Float64Var(&cfg.VelLeft, "vel-left", cfg.VelLeft, "shocktube: left velocity, units of the sound speed")
	fs.Float64Var(&cfg.VelRight, "vel-right", cfg.VelRight, "shocktube: right velocity, units of the sound speed")
	fs.BoolVar(&cfg.Force, "force", false, "overwrite an existing output")
	logEvery := fs.Duration("log-every", 10*time.Second, "interval between progress log lines when not on a terminal")
	ckpt := fs.String("checkpoint", "", "checkpoint `file`: written on SIGTERM/SIGUSR1 (exit status 3) and every --checkpoint-every; resumed from if present")
	ckptEvery := fs.Float64("checkpoint-every", 0, "minutes between periodic checkpoints (0: only when signalled)")
	budget := cli.AddResources(fs)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	every, err := checkpointInterval(*ckptEvery)
	if err != nil {
		return cli.Usage(err)
	}
	if *logEvery < 0 {
		return cli.Usage(fmt.Errorf("--log-every %v: must not be negative", *logEvery))
	}
	ranksSet := false
	fs.Visit(func(f *flag.Flag) { ranksSet = ranksSet || f.Name == "ranks" })
	ctx, stop := cli.SignalContext()
	defer stop()
	opt := driver.Options{
		Progress: os.Stderr, Log: cli.Logger(os.Stderr), LogInterval: *logEvery,
		Checkpoint: *ckpt, CheckpointEvery: every,
	}
	lim, err := budget.Limits()
	if err != nil {
		return err
	}
	if opt.Fault, err = parseFault(os.Getenv("TURBINDEX_FAULT")); err != nil {
		return cli.Usage(err)
	}
	var res *driver.Result
	if mpi.Launched() {
		res, err = runMPI(ctx, cfg, ranksSet, opt, lim)
	} else {
		res, err = runLocal(ctx, cfg, opt, lim)
	}
	if err != nil || res == nil {
		return err
	}
	printSummary(res)
	return nil
}

// runLocal runs the simulation on in-process ranks; a refused
// configuration is a command-line error.
func runLocal(ctx context.Context, cfg driver.Config, opt driver.Options, lim resources.Limits) (*driver.Result, error) {
	m, err := simMemory(cfg, opt.Checkpoint != "")
	if err != nil {
		return nil, err
	}
	if err := fitRun(cfg, m.Total, lim); err != nil {
		return nil, err
	}
	res, err := driver.Run(ctx, cfg, opt)
	var ce driver.ConfigError
	if errors.As(err, &ce) {
		return nil, cli.Usage(flagError(err))
	}
	return res, err
}

// runMPI runs this process as one rank of an MPI job started by mpirun or
// srun. A rank that fails ends the whole job (MPI_Abort) with its reason.
func runMPI(ctx context.Context, cfg driver.Config, ranksSet bool, opt driver.Options, lim resources.Limits) (*driver.Result, error) {
	if !mpi.Enabled {
		if n := mpi.LaunchedSize(); n > 1 {
			return nil, fmt.Errorf("started by an MPI launcher with %d ranks, but this sim was built without MPI: build it with 'make build-mpi'", n)
		}
		return runLocal(ctx, cfg, opt, lim)
	}
	c, err := mpi.Init()
	if err != nil {
		return nil, err
	}
	// Every rank sees the same command line, so every rank reaches the same
	// verdict on the parameters; rank 0 alone probes the output, and all
	// learn its verdict before any starts work (so that no rank can abort
	// the job while another is in the middle of the probe).
	err = nil
	if ranksSet && cfg.Ranks != c.Size() {
		err = fmt.Errorf("--ranks %d disagrees with the %d MPI ranks of this job (leave --ranks out under mpirun/srun)", cfg.Ranks, c.Size())
	} else {
		cfg.Ranks = c.Size()
		err = cfg.ValidateParams()
	}
	if err == nil {
		// This node's ranks share its memory; each sees the same limits.
		var m driver.Memory
		if m, err = cfg.EstimateMemory(opt.Checkpoint != ""); err == nil {
			err = fitRun(cfg, m.PerRank*int64(mpi.LocalSize()), lim)
		}
	}
	if err == nil && c.Rank() == 0 {
		err = cfg.Validate()
	}
	if all, aerr := comm.Agree(c, err); !all {
		mpi.Finalize()
		if c.Rank() != 0 {
			os.Exit(cli.ExitUsage)
		}
		if err == nil {
			err = aerr
		}
		if err == nil {
			err = errors.New("another rank refused the configuration")
		}
		return nil, cli.Usage(flagError(err))
	}
	res, err := driver.RunRank(ctx, c, cfg, opt)
	if err != nil && !errors.Is(err, driver.ErrCheckpointed) {
		c.Abort(err) // does not return
	}
	if err != nil {
		mpi.Finalize()
		return nil, err
	}
	if err := mpi.Finalize(); err != nil {
		return nil, err
	}
	return res, nil
}

// parseFault reads the test hook TURBINDEX_FAULT=RANK:start or
// RANK:step:N, which makes one rank fail on purpose.
func parseFault(s string) (driver.Fault, error) {
	if s == "" {
		return driver.Fault{Rank: -1}, nil
	}
	rank, at, ok := strings.Cut(s, ":")
	r, err := strconv.Atoi(rank)
	if !ok || err != nil || (at != "start" && !strings.HasPrefix(at, "step:")) {
		return driver.Fault{}, fmt.Errorf("TURBINDEX_FAULT=%q: want RANK:start or RANK:step:N", s)
	}
	return driver.Fault{Rank: r, At: at}, nil
}

func printSummary(res *driver.Result) {
	h := res.Header
	maxRSS := slices.Max(res.PeakRSS)
	fmt.Printf("%s: %s %d³ t=%.4g Myr in %d steps on %d ranks, %.1f s wall (setup %.1f, steps %.1f, write %.1f), %.2f M cell-updates/s, ghost exchange %.0f%%, max rank RSS %.0f MiB, mass drift %.1e\n",
		res.Path, h.Problem, h.Grid[0], h.TimeMyr, h.Steps, h.Ranks, h.WallSeconds, res.SetupSeconds, res.LoopSeconds, res.WriteSeconds,
		res.CellUpdatesPerSecond/1e6, 100*res.ExchangeFraction, maxRSS/(1<<20), (res.MassEnd-res.MassStart)/res.MassStart)
}
