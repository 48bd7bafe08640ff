package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/turbindex/turbindex/analysis/resolution"
	"github.com/turbindex/turbindex/internal/cli"
)

// campaigns is the repeatable --campaign flag of `analysis resolution`.
type campaigns []resolution.Campaign

func (c *campaigns) String() string { return fmt.Sprint(len(*c), " campaigns") }

// Set parses manifest,snapshots[,run].
func (c *campaigns) Set(v string) error {
	f := strings.Split(v, ",")
	if len(f) < 2 || len(f) > 3 || f[0] == "" || f[1] == "" {
		return fmt.Errorf("%q: want manifest,snapshots[,run]", v)
	}
	rc := resolution.Campaign{Manifest: f[0], Snapshots: f[1]}
	if len(f) == 3 {
		rc.Run = f[2]
	}
	*c = append(*c, rc)
	return nil
}

func resolutionCmd(args []string) error {
	var o resolution.Options
	fs := flag.NewFlagSet("resolution", flag.ContinueOnError)
	fs.Var((*campaigns)(&o.Campaigns), "campaign", "`manifest,snapshots[,run]` of one grid N (repeat for every N; run: a classifier trained on it)")
	fs.IntVar(&o.ImageSize, "image-size", 0, "common image side in pixels (0: the smallest grid's N/2; must match the runs)")
	fs.StringVar(&o.Cache, "cache", "", "image cache `directory` (default: a cache directory in --out)")
	fs.StringVar(&o.Out, "out", "resolution", "report `directory`")
	res := cli.AddResources(fs)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if len(o.Campaigns) < 2 {
		return cli.Usage(errors.New("--campaign is required at least twice (two grids)"))
	}
	lim, err := res.Limits()
	if err != nil {
		return err
	}
	o.Limits = &lim
	boundHeap(lim)
	o.Log = cli.Logger(os.Stderr)
	cells, err := resolution.Run(o)
	if err != nil {
		return err
	}
	fmt.Println(filepath.Join(o.Out, "index.html"))
	for _, c := range cells {
		fmt.Printf("  trained at N = %-4d tested at N = %-4d accuracy %.3f  AUC %.3f  per simulation %.3f\n", c.Train, c.Test, c.Accuracy, c.AUC, c.PerSimAccuracy)
	}
	return nil
}
