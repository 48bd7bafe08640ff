package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/experiment"
)

// fitTransfer holds fit's transfer-learning flags.
type fitTransfer struct {
	initFrom, freeze *string
	fraction         *float64
}

func transferFlags(fs *flag.FlagSet) fitTransfer {
	return fitTransfer{
		initFrom: fs.String("init-from", "", "run `directory` whose best model's convolution blocks start this run (transfer learning; same filters and image size)"),
		freeze:   fs.String("freeze", "", "conv: keep the convolution blocks fixed, training only the dense head (with --init-from)"),
		fraction: fs.Float64("train-fraction", 0, "learn from this fraction of the training simulations (whole simulations, per class; 0: all)"),
	}
}

// apply checks the flags and sets them in cfg (a resumed run keeps its own).
func (f fitTransfer) apply(cfg *experiment.Config, resume bool) error {
	set := *f.initFrom != "" || *f.freeze != "" || *f.fraction != 0
	if resume {
		if set {
			return cli.Usage(errors.New("--init-from, --freeze and --train-fraction belong to the start of a run: --resume keeps the run's own"))
		}
		return nil
	}
	if *f.freeze != cnn.FreezeNone && *f.freeze != cnn.FreezeConv {
		return cli.Usage(errors.New("--freeze " + *f.freeze + ": want conv"))
	}
	if *f.freeze != "" && *f.initFrom == "" {
		return cli.Usage(errors.New("--freeze conv without --init-from would keep the random initial convolutions"))
	}
	if !(*f.fraction >= 0 && *f.fraction <= 1) {
		return cli.Usage(errors.New("--train-fraction: want a fraction in (0, 1]"))
	}
	if *f.initFrom != "" {
		abs, err := filepath.Abs(*f.initFrom)
		if err != nil {
			return err
		}
		cfg.InitFrom = abs
	}
	cfg.TrainFraction = *f.fraction
	return nil
}

func transferCmd(args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("transfer", flag.ContinueOnError)
	source := fs.String("source", "", "run `directory` whose convolution blocks are transferred (its network, images and campaign are used)")
	task := fs.String("task", "", "task learnt: classify or regress (default: the other task than the source's)")
	fractions := cli.Floats{0.1, 0.3, 1}
	fs.Var(&fractions, "fractions", "fractions of the training simulations")
	epochs := fs.Int("epochs", 10, "epochs of every run")
	freeze := fs.String("freeze", cnn.FreezeConv, "conv: train only the dense head of the transferred network; none: fine-tune everything")
	seed := fs.Uint64("seed", 1, "seed of initialisation, dropout and shuffling")
	out := fs.String("out", "", "study `directory` (finished runs in it are kept)")
	logEvery := fs.Duration("log-every", 30*time.Second, "interval between progress log lines when not on a terminal")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Required(fs, "source", "out"); err != nil {
		return err
	}
	if *freeze == "none" {
		*freeze = cnn.FreezeNone
	} else if *freeze != cnn.FreezeConv {
		return cli.Usage(fmt.Errorf("--freeze %q: want conv or none", *freeze))
	}
	if *epochs < 1 {
		return cli.Usage(fmt.Errorf("--epochs %d: want at least 1", *epochs))
	}
	for _, f := range fractions {
		if f > 1 {
			return cli.Usage(fmt.Errorf("--fractions: %g is not a fraction in (0, 1]", f))
		}
	}
	ctx, stop := cli.SignalContext()
	defer stop()
	st := experiment.TransferStudy{Source: *source, Task: *task, Fractions: fractions, Epochs: *epochs, Freeze: *freeze, Seed: *seed}
	rows, err := experiment.RunTransfer(ctx, *out, st, experiment.FitOptions{Progress: os.Stderr, Log: log, LogInterval: *logEvery})
	if err != nil {
		return err
	}
	for _, r := range rows {
		fmt.Printf("%5.0f %% of the training simulations (%d), %-8s: holdout %.3f, %.3f\n", 100*r.Fraction, r.TrainSims, r.Init, r.Score, r.Score2)
	}
	fmt.Printf("%s: transfer.csv, transfer_curves.csv, transfer_holdout.png, transfer_curves.png\n", *out)
	return nil
}
