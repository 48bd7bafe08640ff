// Command train builds image sets from simulation snapshots and trains,
// evaluates and inspects the CNN that reads the turbulence index off
// column-density maps.
//
//	train images   --snapshot X.tsnap --out dir/
//	train fit      --manifest m.csv --snapshots snaps/ --task classify|regress --epochs E --out run/
//	train eval     --run run/ [--split holdout]
//	train saliency --run run/ [--count 8]
//	train embed    --run run/
//	train predict  --run run/ --fits map.fits [--hdu N] [--pixel-scale PC] [--distance PC] [--units U] [--out dir/]
//	train probe    --run run/
//	train search   --space space.toml --trials K --out dir/ | --trial I --out dir/ | --summarise --out dir/
//	train transfer --source run/ --fractions 0.1,0.3,1 --epochs E --out dir/
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/atomicfile"
	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/internal/progress"
	"github.com/turbindex/turbindex/internal/resources"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/cnn/cuda"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/experiment"
)

const usage = `usage: train <command> [flags]

commands:
  images    write the 48 images of a snapshot as PNG (one log-Σ range)
  cache     fill the image cache of a campaign (fit, eval, embed and analysis then only read it)
  fit       train the CNN on a campaign (classify Kolmogorov/Burgers, or regress n)
  eval      evaluate a run's best model: confusion, ROC, AUC, per-simulation metrics, sweep
  saliency  image | saliency pairs of holdout images
  embed     penultimate-layer activations of holdout images (embeddings.csv)
  predict   apply a run to an observed column-density map (FITS): P(Burgers) or n per tile
  realism   cross-validated AUC of a classifier telling the run's images from a map's tiles
  synthmap  write a synthetic map (power-law log Σ field + point sources) as FITS, for checks
  probe     holdout accuracy, and the R² of a linear probe of the amplitude nuisance on the embedding (probe.json)
  search    hyper-parameter search: plan trials (--space), run one (--trial), --summarise
  transfer  transfer learning against training from scratch at fractions of the training set

Run 'train <command> -h' for the flags of a command.
`

func main() {
	if os.Getenv("GOGC") == "" {
		// Gorgonia's dense-head ops allocate fresh tensors every step; a
		// tighter GC keeps the peak memory of 250² training at ~250 MB
		// instead of ~390 MB and runs ~8 % faster (measured).
		debug.SetGCPercent(25)
	}
	log := cli.Logger(os.Stderr)
	cli.Main("train", usage, map[string]cli.Command{
		"images":   imagesCmd,
		"fit":      func(args []string) error { return fitCmd(args, log) },
		"cache":    func(args []string) error { return cacheCmd(args, log) },
		"transfer": func(args []string) error { return transferCmd(args, log) },
		"search":   func(args []string) error { return searchCmd(args, log) },
		"eval": func(args []string) error {
			return runCmd(args, log, func(fs *flag.FlagSet, opt experiment.Options) func(string) error {
				split := fs.String("split", campaign.Holdout, "split to evaluate on (holdout for the final figures)")
				return func(run string) error {
					m, err := experiment.Eval(run, *split, opt)
					if err == nil {
						report(m)
					}
					return err
				}
			})
		},
		"predict":  func(args []string) error { return predictCmd(args, log) },
		"realism":  func(args []string) error { return realismCmd(args, log) },
		"synthmap": synthmapCmd,
		"saliency": func(args []string) error {
			return runCmd(args, log, func(fs *flag.FlagSet, opt experiment.Options) func(string) error {
				count := fs.Int("count", 8, "number of images")
				return func(run string) error { return experiment.Saliency(run, *count, opt) }
			})
		},
		"probe": func(args []string) error {
			return runCmd(args, log, func(fs *flag.FlagSet, opt experiment.Options) func(string) error {
				return func(run string) error {
					p, err := experiment.ProbeRun(run, opt)
					if err == nil {
						fmt.Printf("%s: λ = %g: holdout accuracy %.3f, AUC %.3f; amplitude from the embedding: R² %.3f on the holdout (%.3f on train; the class alone: %.3f)\n",
							run, p.Lambda, p.Accuracy, p.AUC, p.R2, p.R2Train, p.R2Class)
					}
					return err
				}
			})
		},
		"embed": func(args []string) error {
			return runCmd(args, log, func(fs *flag.FlagSet, opt experiment.Options) func(string) error {
				return func(run string) error { return experiment.Embed(run, opt) }
			})
		},
	}, status)
}

// runCmd parses the flags of a command that works on a run directory:
// --run, --device, --memory, plus those flags registers, and calls the
// function flags returns with the run directory; opt carries the log and
// the memory budget once the flags are parsed.
func runCmd(args []string, log *slog.Logger, flags func(fs *flag.FlagSet, opt experiment.Options) func(run string) error) error {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	run := fs.String("run", "", "run `directory` written by train fit")
	device := deviceFlag(fs, cli.Logger(os.Stderr))
	res := cli.AddResources(fs)
	opt := experiment.Options{Log: log, Limits: new(resources.Limits)}
	do := flags(fs, opt)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Required(fs, "run"); err != nil {
		return err
	}
	if _, err := device(); err != nil {
		return err
	}
	lim, err := res.Limits()
	if err != nil {
		return err
	}
	*opt.Limits = lim
	return do(*run)
}

func fitCmd(args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("fit", flag.ContinueOnError)
	manifest := fs.String("manifest", "", "campaign manifest `file`")
	snaps := fs.String("snapshots", "", "snapshot `directory`")
	task := fs.String("task", experiment.Classify, "classify (Kolmogorov vs Burgers), regress (n of the sweep) or autoencode (the training images, for train predict --autoencoder)")
	epochs := fs.Int("epochs", 20, "epochs to train")
	out := fs.String("out", "", "run `directory` to write")
	resume := fs.Bool("resume", false, "continue the run in --out from its last epoch")
	size := fs.Int("image-size", 0, "image side in pixels (0: N/2, no resampling)")
	normalise := fs.String("normalise", string(dataset.TrainStats), "how images are scaled before the network: train (standardised by the training set's pixels), image (each by itself: morphology only), keras8 (the talk's images: 8-bit grey per image, /255)")
	perImage := fs.Bool("per-image", false, "the same as --normalise image")
	cache := fs.String("cache", "", "image cache `directory` (decoded images, zstd shards)")
	seed := fs.Uint64("seed", 1, "seed of initialisation, dropout and shuffling")
	filters := cli.Ints{16, 32, 64, 64}
	fs.Var(&filters, "filters", "filters of the conv layers")
	dense := cli.Ints{128, 64}
	fs.Var(&dense, "dense", "sizes of the hidden dense layers")
	dropout := fs.Float64("dropout", 0.5, "dropout rate after the hidden dense layers")
	lr := fs.Float64("lr", 1e-3, "RMSprop learning rate")
	batch := fs.Int("batch", 32, "batch size")
	augment := fs.String("augment", "", "training-time augmentation: a list of beam, noise, gradient, zoom (strengths drawn per image per epoch)")
	debias := fs.String("debias", "", "adversarial debiasing of the embedding against a nuisance: amplitude (the standard deviation of log Σ)")
	lambda := fs.Float64("debias-lambda", 1, "weight λ of the gradient reversal for --debias (0: the head learns, the network is not pushed)")
	logEvery := fs.Duration("log-every", 30*time.Second, "interval between progress log lines when not on a terminal")
	tl := transferFlags(fs)
	device := deviceFlag(fs, log)
	res := cli.AddResources(fs)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	lim, err := res.Limits()
	if err != nil {
		return err
	}
	if err := cli.Required(fs, "out"); err != nil {
		return err
	}
	norm, err := dataset.ParseNormalisation(*normalise)
	if err != nil {
		return cli.Usage(fmt.Errorf("--normalise: %w", err))
	}
	if *perImage {
		if norm != dataset.TrainStats && norm != dataset.PerImageStats {
			return cli.Usage(fmt.Errorf("--per-image contradicts --normalise %s", norm))
		}
		norm = dataset.PerImageStats
	}
	dev, err := device()
	if err != nil {
		return err
	}
	cfg := experiment.Config{Task: *task, ImageSize: *size, Normalise: norm, Epochs: *epochs, Seed: *seed, Device: string(dev)}
	if err := tl.apply(&cfg, *resume); err != nil {
		return err
	}
	if !*resume {
		if err := cli.Required(fs, "manifest", "snapshots"); err != nil {
			return err
		}
		if cfg.Manifest, err = filepath.Abs(*manifest); err != nil {
			return err
		}
		if cfg.Snapshots, err = filepath.Abs(*snaps); err != nil {
			return err
		}
		if *cache != "" {
			if cfg.Cache, err = filepath.Abs(*cache); err != nil {
				return err
			}
		}
		cfg.CNN = cnn.DefaultConfig(*task, *size)
		cfg.CNN.Filters, cfg.CNN.Dense = filters, dense
		cfg.CNN.Dropout, cfg.CNN.LearnRate, cfg.CNN.Batch, cfg.CNN.Seed = *dropout, *lr, *batch, *seed
		if cfg.Augment, err = experiment.ParseAugment(*augment); err != nil {
			return cli.Usage(fmt.Errorf("--augment: %w", err))
		}
		switch *debias {
		case "":
		case experiment.NuisanceAmplitude:
			if !(*lambda >= 0) || math.IsInf(*lambda, 0) {
				return cli.Usage(fmt.Errorf("--debias-lambda %v: want a finite value ≥ 0", *lambda))
			}
			cfg.Debias = &experiment.Debias{Nuisance: *debias, Lambda: *lambda}
		default:
			return cli.Usage(fmt.Errorf("--debias %q: want %s", *debias, experiment.NuisanceAmplitude))
		}
		cfg.CNN.Freeze = *tl.freeze
	}
	ctx, stop := cli.SignalContext()
	defer stop()
	// A run that fails before its first epoch is saved leaves nothing
	// (no empty or config-only run directory); after it, --resume goes on.
	undo := atomicfile.UndoMkdir(*out)
	err = experiment.Fit(ctx, *out, cfg, experiment.FitOptions{Resume: *resume, Limits: &lim, Progress: os.Stderr, Log: log, LogInterval: *logEvery})
	if _, herr := os.Stat(filepath.Join(*out, "history.csv")); err != nil && herr != nil {
		undo()
	}
	if err == nil && *task == experiment.Autoencode {
		fmt.Printf("%s: trained; history.csv, learning_curve.png, best.ae, recon-holdout.csv, autoencoder.json, recon_holdout.png\n", *out)
	} else if err == nil {
		fmt.Printf("%s: trained; history.csv, learning_curve.png, best.cnn, summary.txt, model.png\n", *out)
	}
	return err
}

// deviceFlag registers --device on fs. The function it returns resolves
// the choice (cuda.Resolve) once the flags are parsed, and logs where the
// network runs and why.
func deviceFlag(fs *flag.FlagSet, log *slog.Logger) func() (cuda.Device, error) {
	s := fs.String("device", string(cuda.Auto), "where the network runs: auto (CUDA when a usable GPU is found, else the CPU), cpu or cuda")
	return func() (cuda.Device, error) {
		d, err := cuda.ParseDevice(*s)
		if err != nil {
			return "", cli.Usage(fmt.Errorf("--device: %w", err))
		}
		use, why, err := cuda.Resolve(d)
		if err != nil {
			return "", fmt.Errorf("--device %s: %w", d, err)
		}
		log.Info("device", "use", string(use), "why", why)
		return use, nil
	}
}

func cacheCmd(args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("cache", flag.ContinueOnError)
	manifest := fs.String("manifest", "", "campaign manifest `file`")
	snaps := fs.String("snapshots", "", "snapshot `directory`")
	cache := fs.String("cache", "", "image cache `directory` to fill")
	size := fs.Int("image-size", 0, "image side in pixels (0: N/2, no resampling)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Required(fs, "manifest", "snapshots", "cache"); err != nil {
		return err
	}
	if *size < 0 || *size > 1<<15 {
		return cli.Usage(fmt.Errorf("--image-size %d: want 0 (N/2) to %d", *size, 1<<15))
	}
	m, err := campaign.ReadFile(*manifest)
	if err != nil {
		return err
	}
	prog := progress.New(os.Stderr, log, "image cache", float64(len(m.Rows)), 30*time.Second)
	s, err := dataset.OpenStream(m, *snaps, dataset.Options{Size: *size, Cache: *cache,
		Warn:     func(msg string) { log.Warn(msg) },
		Progress: func(done, _ int) { prog.Update(float64(done)) }})
	if err != nil {
		return err
	}
	prog.Finish()
	fmt.Printf("%s: %d images of %d² from %d simulations\n", *cache, s.Len(), s.Size, s.Sims())
	return nil
}

func report(m *experiment.Metrics) {
	switch {
	case m.Images != nil:
		fmt.Printf("%s: accuracy %.3f (per simulation %.3f), AUC %.3f (per simulation %.3f), %d images\n",
			m.Split, m.Images.Accuracy, m.PerSim.Accuracy, m.Images.AUC, m.PerSim.AUC, m.Images.N)
		if m.Tuned != nil {
			fmt.Printf("%s: accuracy %.3f at the threshold %.3g chosen on the test split (0.5: %.3f); calibration error (ECE) %.3f\n",
				m.Split, m.Tuned.Accuracy, m.Tuned.Threshold, m.Images.Accuracy, m.ECE)
		}
	case m.RegImg != nil:
		fmt.Printf("%s: MSE %.4g, R² %.3f, %d images\n", m.Split, m.RegImg.MSE, m.RegImg.R2, m.RegImg.N)
	}
}

func imagesCmd(args []string) error {
	fs := flag.NewFlagSet("images", flag.ContinueOnError)
	snap := fs.String("snapshot", "", "snapshot `file`")
	out := fs.String("out", "", "output `directory`")
	size := fs.Int("image-size", 0, "image side in pixels (0: N/2)")
	lo := fs.Float64("lo", 0, "log10 Σ mapped to black (with --hi; default: the images' range)")
	hi := fs.Float64("hi", 0, "log10 Σ mapped to white")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Required(fs, "snapshot", "out"); err != nil {
		return err
	}
	row, err := dataset.RowOf(*snap)
	if err != nil {
		return err
	}
	images, err := dataset.FromSnapshot(*snap, *size, row)
	if err != nil {
		return err
	}
	if *lo == 0 && *hi == 0 {
		if *lo, *hi, err = dataset.CampaignRange(images); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(*out, 0o777); err != nil {
		return err
	}
	for _, im := range images {
		l := im.Label
		name := fmt.Sprintf("%s_%s_%s_%s.png", l.ID, dataset.Projections[l.Projection], dataset.FlipNames[l.Flip], dataset.QuadrantNames[l.Quadrant])
		if err := dataset.WritePNG(filepath.Join(*out, name), im, *lo, *hi); err != nil {
			return err
		}
	}
	fmt.Printf("%s: %d images, log10 Σ in [%.4g, %.4g] → gray 0–255\n", *out, len(images), *lo, *hi)
	return nil
}
