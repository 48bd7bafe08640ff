package main

import (
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/train/experiment"
	"github.com/turbindex/turbindex/train/skymap"
)

// mapFlags registers the flags that say how to read an observed map.
func mapFlags(fs *flag.FlagSet) (fitsPath *string, opt func() (skymap.Options, error)) {
	fitsPath = fs.String("fits", "", "column-density map `file` (FITS)")
	hdu := fs.Int("hdu", -1, "FITS HDU `N` to read (0: primary; default: the first with image data)")
	slice := fs.Int("slice", -1, "plane `K` of a 3-D image (from 0)")
	pixel := fs.Float64("pixel-scale", 0, "pixel size in `pc` (default: from the WCS)")
	dist := fs.Float64("distance", 0, "distance to the cloud in `pc` (for a celestial WCS)")
	unit := fs.String("units", "", "unit of the map's values, overriding BUNIT: "+strings.Join(skymap.Units, ", ")+" (cm-2 is N(H2))")
	return fitsPath, func() (skymap.Options, error) {
		o := skymap.Options{HDU: *hdu, Slice: *slice, PixelPc: *pixel, DistancePc: *dist, Unit: *unit}
		if err := cli.Required(fs, "fits"); err != nil {
			return o, err
		}
		switch {
		case *pixel < 0:
			return o, cli.Usage(fmt.Errorf("--pixel-scale %g: must be positive", *pixel))
		case *dist < 0:
			return o, cli.Usage(fmt.Errorf("--distance %g: must be positive", *dist))
		case *hdu < -1 || *slice < -1:
			return o, cli.Usage(fmt.Errorf("--hdu %d --slice %d: must be ≥ 0", *hdu, *slice))
		}
		if *unit != "" {
			if _, err := skymap.GramsPerCm2Per(*unit); err != nil {
				return o, cli.Usage(fmt.Errorf("--units: %w", err))
			}
		}
		return o, nil
	}
}

func predictCmd(args []string, log *slog.Logger) error {
	return runCmd(args, func(fs *flag.FlagSet) func(string) error {
		fitsPath, mapOpt := mapFlags(fs)
		out := fs.String("out", "", "output `directory` (default: RUN/predict/<map name>)")
		holes := fs.Float64("max-holes", 0.05, "largest `fraction` of NaN/blank/Σ≤0 pixels a tile may have (filled with its mean)")
		return func(run string) error {
			o, err := mapOpt()
			if err != nil {
				return err
			}
			dir := *out
			if dir == "" {
				dir = filepath.Join(run, "predict", strings.TrimSuffix(filepath.Base(*fitsPath), filepath.Ext(*fitsPath)))
			}
			s, err := experiment.Predict(run, *fitsPath, experiment.PredictOptions{Map: o, MaxHoles: *holes, Out: dir, Log: log})
			if err != nil {
				return err
			}
			fmt.Print(s.Text())
			fmt.Printf("%s: predictions.csv, summary.json, summary.txt, map.png\n", dir)
			return nil
		}
	})
}
