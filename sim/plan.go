package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/atomicfile"
	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/internal/resources"
	"github.com/turbindex/turbindex/sim/driver"
)

// planCmd writes a campaign manifest (see package campaign for its format)
// and prints one line: the path, the simulations per class and split, and
// the sbatch --array range for one simulation per task.
func planCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	var o campaign.PlanOptions
	fs.StringVar(&o.Preset, "preset", "paper", "campaign: paper (500 kolmogorov + 500 burgers + 1000 sweep at 500³) or demo (8 + 8 + 4 at 32³)")
	out := fs.String("out", "manifest.csv", "manifest `path` to write")
	fs.Uint64Var(&o.CampaignSeed, "seed", 1, "campaign seed: every simulation's seed, the sweep's indices and the splits derive from it")
	fs.IntVar(&o.Grid, "grid", 0, "cells `N` along each axis of the cube (0: the preset's)")
	fs.Float64Var(&o.TEndMyr, "tend", 0, "simulated time, `Myr` (0: the default, 0.5)")
	fs.IntVar(&o.Kolmogorov, "kolmogorov", -1, "Kolmogorov (n = 11/3) simulations (-1: the preset's)")
	fs.IntVar(&o.Burgers, "burgers", -1, "Burgers (n = 4) simulations (-1: the preset's)")
	fs.IntVar(&o.Sweep, "sweep", -1, "sweep simulations, n uniform in [3, 4.5) (-1: the preset's)")
	fs.Var((*cli.Strings)(&o.Fields), "fields", "comma-separated cubes to store besides the Σ maps: density,velocity")
	force := fs.Bool("force", false, "overwrite an existing manifest")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := checkOut(*out, *force); err != nil {
		return cli.Usage(err)
	}
	m, err := campaign.Plan(o)
	if err != nil {
		return cli.Usage(flagError(err))
	}
	memory, err := planMemory(m)
	if err != nil {
		return err
	}
	if err := campaign.WriteFile(*out, m, *force); err != nil {
		return err
	}
	c := m.Counts()
	var parts []string
	for i, class := range campaign.Classes {
		n := c[i][0] + c[i][1] + c[i][2]
		parts = append(parts, fmt.Sprintf("%s %d (%d/%d/%d)", class, n, c[i][0], c[i][1], c[i][2]))
	}
	p := m.Params
	_, err = fmt.Fprintf(w, "%s: %d simulations at %d³ to %g Myr: %s train/test/holdout; --array=0-%d for --per-task 1\n",
		*out, len(m.Rows), p.Grid, p.TEndMyr, strings.Join(parts, ", "), m.NumTasks(1)-1)
	if err == nil {
		_, err = fmt.Fprintln(w, memory)
	}
	return err
}

// planMemory says what one simulation of the campaign needs: in one
// process (in-process ranks, as sim task runs it), and per rank for a few
// MPI rank counts. The plan is written where the simulations will not run,
// so it judges nothing by this machine; it refuses only a grid whose sizes
// overflow (no machine could index it).
func planMemory(m *campaign.Manifest) (string, error) {
	cfg := driver.Turbulence(m.Run(m.Rows[0]), "")
	one, err := simMemory(cfg, true)
	if err != nil {
		return "", err
	}
	msg := fmt.Sprintf("memory of one simulation: %s in one process", resources.FormatBytes(one.Total))
	var per []string
	for _, r := range []int{8, 64, 512, 4096} {
		cfg.Ranks = r
		if mr, err := cfg.EstimateMemory(true); err == nil {
			per = append(per, fmt.Sprintf("%s on %d", resources.FormatBytes(mr.PerRank), r))
		}
	}
	if len(per) > 0 {
		msg += "; per MPI rank " + strings.Join(per, ", ")
	}
	return msg + " (sim task --parallel P runs P in one process)", nil
}

// checkOut rejects an output path whose directory is missing or that
// exists without force, before any work.
func checkOut(path string, force bool) error {
	err := atomicfile.CheckTarget(path, force)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("--out %s: file already exists (use --force to overwrite)", path)
	}
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}
