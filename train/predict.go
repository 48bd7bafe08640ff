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
		ae := fs.String("autoencoder", "", "autoencoder run `directory` (train fit --task autoencode): place each tile's reconstruction error among the holdout's")
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
			s, err := experiment.Predict(run, *fitsPath, experiment.PredictOptions{Map: o, MaxHoles: *holes, Out: dir, Autoencoder: *ae, Log: log})
			if err != nil {
				return err
			}
			fmt.Print(s.Text())
			fmt.Printf("%s: predictions.csv, summary.json, summary.txt, map.png\n", dir)
			return nil
		}
	})
}

func realismCmd(args []string, log *slog.Logger) error {
	return runCmd(args, func(fs *flag.FlagSet) func(string) error {
		fitsPath, mapOpt := mapFlags(fs)
		out := fs.String("out", "", "output `directory` (default: RUN/realism/<map name>)")
		holes := fs.Float64("max-holes", 0.05, "largest `fraction` of NaN/blank/Σ≤0 pixels a tile may have")
		folds := fs.Int("folds", 5, "cross-validation `folds`")
		return func(run string) error {
			o, err := mapOpt()
			if err != nil {
				return err
			}
			if *folds < 2 {
				return cli.Usage(fmt.Errorf("--folds %d: want at least 2", *folds))
			}
			dir := *out
			if dir == "" {
				dir = filepath.Join(run, "realism", strings.TrimSuffix(filepath.Base(*fitsPath), filepath.Ext(*fitsPath)))
			}
			r, err := experiment.Realism(run, *fitsPath, experiment.RealismOptions{Map: o, MaxHoles: *holes, Folds: *folds, Out: dir, Log: log})
			if err != nil {
				return err
			}
			fmt.Print(r.Text())
			fmt.Printf("%s: realism.json\n", dir)
			return nil
		}
	})
}

func synthmapCmd(args []string) error {
	fs := flag.NewFlagSet("synthmap", flag.ContinueOnError)
	out := fs.String("out", "", "FITS `file` to write")
	o := skymap.SyntheticOptions{}
	fs.IntVar(&o.Size, "size", 128, "side in `pixels` (even)")
	fs.Float64Var(&o.PixelPc, "pixel-scale", 0.15625, "pixel size in `pc`")
	fs.Float64Var(&o.Slope, "slope", 2.5, "power-spectrum slope of log Σ: P(k) ∝ k^-slope")
	fs.Float64Var(&o.SigmaDex, "sigma-dex", 0.3, "standard deviation of log10 Σ, dex")
	fs.Float64Var(&o.MeanSig, "mean-sigma", 0.0209, "geometric mean Σ, g cm-2")
	fs.IntVar(&o.Sources, "sources", 20, "point sources")
	fs.Float64Var(&o.Contrast, "contrast", 10, "peak Σ of a point source over its surroundings")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Required(fs, "out"); err != nil {
		return err
	}
	m, err := skymap.Synthetic(o)
	if err != nil {
		return cli.Usage(err)
	}
	if err := skymap.WriteFITS(*out, m, "turbindex train synthmap"); err != nil {
		return err
	}
	fmt.Printf("%s: %d² pixels of %g pc, log Σ slope %g, %g dex, %d point sources\n", *out, o.Size, o.PixelPc, o.Slope, o.SigmaDex, o.Sources)
	return nil
}
