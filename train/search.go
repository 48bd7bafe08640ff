package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/experiment"
	"github.com/turbindex/turbindex/train/search"
)

// exitInterrupted is the exit status of a trial stopped by a signal
// between epochs (SLURM's --signal before the time limit): run it again to
// resume, as sim task's checkpoints.
const exitInterrupted = 3

// status maps an error of a train command to its exit status.
func status(err error) int {
	if errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	return 1
}

func searchCmd(args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	space := fs.String("space", "", "search space `file` (.toml or .json): plan the search")
	trials := fs.Int("trials", 0, "random search: number of trials (default: the space file's trials)")
	out := fs.String("out", "", "search `directory`")
	trial := fs.Int("trial", -1, "run this trial (default: $SLURM_ARRAY_TASK_ID)")
	summarise := fs.Bool("summarise", false, "rank the finished trials on the validation split, evaluate the winner on the holdout")
	manifest := fs.String("manifest", "", "campaign manifest `file` (with --space)")
	snaps := fs.String("snapshots", "", "snapshot `directory` (with --space)")
	task := fs.String("task", experiment.Classify, "classify or regress (with --space)")
	size := fs.Int("image-size", 0, "image side in pixels (0: N/2; with --space)")
	normalise := fs.String("normalise", string(dataset.TrainStats), "how images are scaled (as train fit --normalise; with --space)")
	cache := fs.String("cache", "", "image cache `directory` (with --space)")
	seed := fs.Uint64("seed", 1, "seed of initialisation, dropout and shuffling of every trial (with --space)")
	logEvery := fs.Duration("log-every", 30*time.Second, "interval between progress log lines when not on a terminal")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Required(fs, "out"); err != nil {
		return err
	}
	if *trial < 0 && *space == "" && !*summarise {
		if id, ok := os.LookupEnv("SLURM_ARRAY_TASK_ID"); ok {
			v, err := strconv.Atoi(id)
			if err != nil || v < 0 {
				return cli.Usage(fmt.Errorf("SLURM_ARRAY_TASK_ID=%q is not a trial number", id))
			}
			*trial = v
		}
	}
	modes := 0
	for _, on := range []bool{*space != "", *trial >= 0, *summarise} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		return cli.Usage(errors.New("give one of --space FILE (plan), --trial I (run one; or SLURM_ARRAY_TASK_ID) and --summarise"))
	}
	switch {
	case *space != "":
		if *manifest == "" || *snaps == "" {
			return cli.Usage(errors.New("--space needs --manifest and --snapshots"))
		}
		if *task != experiment.Classify && *task != experiment.Regress {
			return cli.Usage(fmt.Errorf("--task %q: want classify or regress", *task))
		}
		raw, err := os.ReadFile(*space)
		if err != nil {
			return err
		}
		sp, err := search.ParseSpace(*space, raw)
		if err != nil {
			return err
		}
		ts, err := sp.Draw(*trials)
		if err != nil {
			return cli.Usage(err)
		}
		norm, err := dataset.ParseNormalisation(*normalise)
		if err != nil {
			return cli.Usage(fmt.Errorf("--normalise: %w", err))
		}
		setup := search.Setup{Task: *task, ImageSize: *size, Normalise: norm, Seed: *seed, Method: sp.Method}
		for _, p := range []struct {
			dst *string
			src string
		}{{&setup.Manifest, *manifest}, {&setup.Snapshots, *snaps}, {&setup.Cache, *cache}, {&setup.Space, *space}} {
			if p.src != "" {
				if *p.dst, err = filepath.Abs(p.src); err != nil {
					return err
				}
			}
		}
		if err := search.Plan(*out, setup, ts); err != nil {
			return err
		}
		fmt.Printf("%s: %d trials (%s); run them with train search --trial I --out %s, I = 0 … %d (slurm/submit.sh --search: one array task each)\n",
			*out, len(ts), sp.Method, *out, len(ts)-1)
	case *trial >= 0:
		ctx, stop := cli.SignalContext()
		defer stop()
		trained, err := search.RunTrial(ctx, *out, *trial, experiment.FitOptions{Progress: os.Stderr, Log: log, LogInterval: *logEvery})
		if err != nil {
			return err
		}
		if trained {
			fmt.Printf("%s: trained\n", search.TrialDir(*out, *trial))
		} else {
			fmt.Printf("%s: finished already\n", search.TrialDir(*out, *trial))
		}
	default:
		results, w, err := search.Summarise(*out, log)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d trials; best: trial %d (lr %g, dropout %g, filters %v, dense %v, batch %d, epochs %d), validation %.4g\n",
			*out, len(results), w.Trial, w.LR, w.Dropout, w.Filters, w.Dense, w.Batch, w.Epochs, w.ValScore)
		report(w.Holdout)
		fmt.Printf("%s: summary.csv, search.png, winner.json\n", *out)
	}
	return nil
}
