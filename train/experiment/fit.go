// Package experiment runs the study's learning experiments end to end: it
// builds the image sets from a campaign, trains the CNN (classify
// Kolmogorov vs Burgers, or regress n on the sweep), evaluates it on the
// holdout, and writes every table and figure into a run directory.
//
// A run directory holds:
//
//	config.json         the run's settings, the standardisation statistics
//	history.csv         epoch, train_loss, val_loss, train_acc, val_acc, seconds
//	learning_curve.png  train and validation loss against epoch
//	last.cnn, best.cnn  the model after the last epoch and at the lowest validation loss
//	summary.txt         layers, output shapes and parameter counts
//	model.png           a drawing of the network
//
// and after `eval`, `saliency` and `embed` their outputs.
package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/atomicfile"
	"github.com/turbindex/turbindex/internal/progress"
	"github.com/turbindex/turbindex/internal/resources"
	"github.com/turbindex/turbindex/train/autoenc"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/plots"
)

// Task names.
const (
	Classify = "classify" // P(Burgers) of Kolmogorov (0) and Burgers (1) images
	Regress  = "regress"  // the spectral index n of sweep images
)

// Config is a run's settings, saved as config.json in the run directory.
type Config struct {
	Task      string `json:"task"`
	Manifest  string `json:"manifest"`  // absolute path of the campaign manifest
	Snapshots string `json:"snapshots"` // absolute path of the snapshot directory
	Cache     string `json:"cache,omitempty"`
	ImageSize int    `json:"image_size"` // pixels; 0 = N/2
	// Normalise is how the images are scaled before the network (see
	// dataset.Normalisation); "" means dataset.TrainStats.
	Normalise dataset.Normalisation `json:"normalise"`
	// PerImage is how runs written before Normalise existed said
	// Normalise = image; ReadConfig and Fit turn it into Normalise.
	PerImage bool           `json:"per_image,omitempty"`
	Stats    dataset.Stats  `json:"stats"` // training-split standardisation
	Epochs   int            `json:"epochs"`
	Seed     uint64         `json:"seed"`
	CNN      cnn.Config     `json:"cnn"`
	Augment  *Augment       `json:"augment,omitempty"` // training-time augmentation (nil: none)
	Debias   *Debias        `json:"debias,omitempty"`  // adversarial debiasing (nil: none)
	Created  string         `json:"created,omitempty"`
	Extra    map[string]any `json:"extra,omitempty"`
	// PixelPc is the pixel size of the images in pc: the box edge over
	// twice ImageSize (an image is a quadrant of a map).
	PixelPc float64 `json:"pixel_pc,omitempty"`
	// AE is the autoencoder's architecture (task autoencode).
	AE *autoenc.Config `json:"autoencoder,omitempty"`
	// InitFrom is the run directory (absolute) whose best model's
	// convolution blocks started this run (transfer learning); "" for a
	// random start. CNN.Freeze says whether they were then kept fixed.
	InitFrom string `json:"init_from,omitempty"`
	// TrainFraction is the fraction of the training simulations learnt
	// from (whole simulations, per class, nested; see trainSubset); 0 or 1:
	// all. The standardisation statistics are those of the whole training
	// split.
	TrainFraction float64 `json:"train_fraction,omitempty"`
	// Device is where the run trained: "cpu", or "cuda" with a GPU
	// (what train's --device resolved to).
	Device string `json:"device,omitempty"`
}

// FitOptions are the connections of a training run to the outside world.
type FitOptions struct {
	Resume bool
	// Limits, if not nil, is the memory budget: Fit refuses with a
	// *resources.TooBigError, before it reads or writes anything, a run whose
	// estimate (FitMemory) exceeds it.
	Limits      *resources.Limits
	Progress    *os.File // terminal for a progress bar (usually os.Stderr)
	Log         *slog.Logger
	LogInterval time.Duration
}

// classesFor returns the classes a task learns from.
func classesFor(task string) []string {
	if task == Regress {
		return []string{campaign.Sweep}
	}
	return []string{campaign.Kolmogorov, campaign.Burgers}
}

// target returns the learning target of an image for a task.
func target(task string, l dataset.Label) float32 {
	if task == Regress {
		return float32(l.Index)
	}
	if l.Class == campaign.Burgers {
		return 1
	}
	return 0
}

// batchOf copies the pixels and targets of images idx into x and y.
func batchOf(task string, images []dataset.Image, idx []int, x, y []float32) ([]float32, []float32) {
	x, y = x[:0], y[:0]
	for _, i := range idx {
		x = append(x, images[i].Pix...)
		y = append(y, target(task, images[i].Label))
	}
	return x, y
}

// loadSplits loads the given splits of the task's classes and standardises
// them (with the training statistics st, or per image).
func loadSplits(cfg *Config, splits []string, log *slog.Logger) (map[string][]dataset.Image, error) {
	out, err := rawSplits(cfg, splits, warner(log))
	if err != nil {
		return nil, err
	}
	for _, images := range out {
		for _, im := range images {
			cfg.standardise(im.Pix)
		}
	}
	return out, nil
}

// targets returns the learning targets of the images idx of s, in y.
func targets(task string, s *dataset.Stream, idx []int, y []float32) []float32 {
	y = y[:0]
	for _, i := range idx {
		y = append(y, target(task, s.Label(i)))
	}
	return y
}

// cacheDir returns the image cache of the run in dir: cfg.Cache, or
// dir/cache when the run names none.
func cacheDir(dir string, cfg Config) string {
	if cfg.Cache != "" {
		return cfg.Cache
	}
	return filepath.Join(dir, "cache")
}

// openSplit opens the images of one split (all splits when split is "") of
// the given classes as a stream from the run's image cache, filling the
// cache from the snapshots where it lacks them.
func openSplit(dir string, cfg *Config, split string, classes []string, log *slog.Logger) (*dataset.Stream, error) {
	m, err := campaign.ReadFile(cfg.Manifest)
	if err != nil {
		return nil, err
	}
	opt := dataset.Options{Size: cfg.ImageSize, Classes: classes, Cache: cacheDir(dir, *cfg),
		Warn: func(msg string) {
			if log != nil {
				log.Warn(msg)
			}
		},
	}
	if split != "" {
		opt.Splits = []string{split}
	}
	s, err := dataset.OpenStream(m, cfg.Snapshots, opt)
	if err != nil {
		return nil, fmt.Errorf("%s task: %w", cfg.Task, err)
	}
	if cfg.ImageSize == 0 {
		cfg.ImageSize = s.Size
	}
	cfg.PixelPc = m.Params.BoxPc / float64(2*cfg.ImageSize)
	return s, nil
}

// checkSnapshots checks the snapshots of the given splits and classes at
// once (dataset.Check).
func checkSnapshots(dir string, cfg Config, splits, classes []string) error {
	m, err := campaign.ReadFile(cfg.Manifest)
	if err != nil {
		return err
	}
	opt := dataset.Options{Size: cfg.ImageSize, Splits: splits, Classes: classes, Cache: cacheDir(dir, cfg)}
	rows, err := dataset.Rows(m, opt)
	if err != nil {
		return fmt.Errorf("%s task: %w", cfg.Task, err)
	}
	if err := dataset.Check(m, cfg.Snapshots, rows, opt); err != nil {
		return fmt.Errorf("%s task: %w", cfg.Task, err)
	}
	return nil
}

// loader returns how the run reads images: standardised with the training
// statistics, or each by itself.
func (cfg Config) loader() dataset.Loader {
	return dataset.Loader{Prepare: func(_ int, pix []float32) { cfg.standardise(pix) }}
}

// all returns 0, 1, …, n−1.
func all(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// checkFit refuses a run whose memory estimate exceeds lim.
func checkFit(cfg Config, lim *resources.Limits) error {
	if lim == nil {
		return nil
	}
	m, size, err := manifestSide(cfg)
	if err != nil {
		return err
	}
	classes := classesFor(cfg.Task)
	need := FitMemory(cfg, size, sims(m, campaign.Train, classes), sims(m, campaign.Test, classes))
	return fits(lim, fmt.Sprintf("train fit --task %s on %d² images in batches of %d", cfg.Task, size, cfg.CNN.Batch), need,
		"lower --batch or --image-size, or run where more memory is given (--memory overrides the detected budget)")
}

// warner returns a function that logs a warning (or nothing without a log).
func warner(log *slog.Logger) func(string) {
	return func(msg string) {
		if log != nil {
			log.Warn(msg)
		}
	}
}

// Fit trains a model as cfg says and writes the run directory dir. With
// opt.Resume it continues the run in dir from its last checkpoint.
func Fit(ctx context.Context, dir string, cfg Config, opt FitOptions) error {
	if cfg.Task == Autoencode {
		return fitAutoencoder(ctx, dir, cfg, opt)
	}
	if cfg.Task != Classify && cfg.Task != Regress {
		return fmt.Errorf("task %q: want %s or %s", cfg.Task, Classify, Regress)
	}
	if cfg.Epochs < 1 {
		return fmt.Errorf("epochs %d: must be at least 1", cfg.Epochs)
	}
	if err := checkFraction(cfg.TrainFraction); err != nil {
		return err
	}
	cfg.Normalise, cfg.PerImage = cfg.normalisation(), false
	if _, err := dataset.ParseNormalisation(string(cfg.Normalise)); err != nil {
		return err
	}
	var history []Epoch
	var model *cnn.Model
	if opt.Resume {
		saved, err := ReadConfig(dir)
		if err != nil {
			return err
		}
		saved.Epochs = cfg.Epochs
		cfg = saved
		if err := checkFit(cfg, opt.Limits); err != nil {
			return err
		}
		if history, err = ReadHistory(dir); err != nil {
			return err
		}
		if model, err = loadModel(filepath.Join(dir, "last.cnn")); err != nil {
			return err
		}
	} else {
		if err := checkFit(cfg, opt.Limits); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(dir, "history.csv")); err == nil {
			return fmt.Errorf("run directory %s already holds a run: resume it, or write elsewhere", dir)
		}
	}
	if cfg.Debias != nil && cfg.Task != Classify {
		return fmt.Errorf("--debias: only for the %s task", Classify)
	}
	// Every snapshot the run needs is checked before the first is read, so
	// that one error lists all the missing and corrupt ones.
	if err := checkSnapshots(dir, cfg, []string{campaign.Train, campaign.Test}, classesFor(cfg.Task)); err != nil {
		return err
	}
	trainAll, err := openSplit(dir, &cfg, campaign.Train, classesFor(cfg.Task), opt.Log)
	if err != nil {
		return err
	}
	val, err := openSplit(dir, &cfg, campaign.Test, classesFor(cfg.Task), opt.Log)
	if err != nil {
		return err
	}
	if !cfg.PerImage {
		if cfg.Stats, err = trainAll.Stats(); err != nil {
			return err
		}
	}
	ts, err := newTrainingSet(&cfg, trainAll, trainSubsetIndices(trainAll, cfg.TrainFraction), model == nil)
	if err != nil {
		return err
	}
	ld := cfg.loader()
	if model == nil {
		cfg.CNN.Task, cfg.CNN.ImageSize = cfg.Task, cfg.ImageSize
		if cfg.Debias != nil {
			cfg.CNN.Debias, cfg.CNN.DebiasLambda = true, cfg.Debias.Lambda
		}
		if model, err = cnn.New(cfg.CNN); err != nil {
			return err
		}
		if err := initFrom(model, cfg.InitFrom); err != nil {
			return err
		}
		cfg.Created = time.Now().UTC().Format(time.RFC3339)
		if err := WriteConfig(dir, cfg); err != nil {
			return err
		}
		if err := writeSummary(dir, model); err != nil {
			return err
		}
	}
	if opt.Log != nil {
		opt.Log.Info("training", "task", cfg.Task, "train_images", len(ts.idx), "train_simulations", len(ts.idx)/dataset.PerSnapshot, "val_images", val.Len(),
			"image_size", cfg.ImageSize, "epochs", cfg.Epochs, "from_epoch", len(history)+1,
			"augment", cfg.Augment != nil, "debias", cfg.Debias != nil)
	}
	// Training accuracy is measured in inference mode on a fixed subset of
	// the (unaugmented) training images, so that an epoch's cost stays that
	// of training.
	sub := ts.idx
	if len(sub) > 4096 {
		sub = pickInts(ts.idx, subset(len(ts.idx), 4096, cfg.Seed))
	}
	batch := cfg.CNN.Batch
	y := make([]float32, 0, batch)
	var nu []float32
	for epoch := len(history) + 1; epoch <= cfg.Epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted before epoch %d (the run can be resumed): %w", epoch, err)
		}
		t0 := time.Now()
		order := pickInts(ts.idx, shuffled(len(ts.idx), cfg.Seed, epoch))
		prog := progress.New(opt.Progress, opt.Log, fmt.Sprintf("epoch %d/%d", epoch, cfg.Epochs), float64(len(order)), opt.LogInterval)
		var sum, nsum float64
		done := 0
		eld, failed := ts.loader(epoch)
		err := trainAll.Batches(order, batch, eld, func(idx []int, x []float32) error {
			if err := failed(); err != nil {
				return fmt.Errorf("epoch %d: %w", epoch, err)
			}
			// A signal (SLURM's time limit) stops within a batch: the
			// finished epochs are saved, and a resumed run replays this one
			// from its start with the same order, as if never stopped.
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("interrupted in epoch %d after %d of %d images (the run can be resumed; it restarts this epoch): %w", epoch, done, len(order), err)
			}
			y = targets(cfg.Task, trainAll, idx, y)
			var loss, nloss float64
			var err error
			if cfg.Debias != nil {
				nu = ts.nuisance(idx, nu)
				loss, nloss, err = model.TrainStepDebias(x, y, nu)
				nsum += nloss * float64(len(idx))
			} else {
				loss, err = model.TrainStep(x, y)
			}
			if err != nil {
				return fmt.Errorf("epoch %d: %w", epoch, err)
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return fmt.Errorf("epoch %d: the loss is %v: lower the learning rate", epoch, loss)
			}
			sum += loss * float64(len(idx))
			done += len(idx)
			prog.Update(float64(done), slog.Float64("loss", sum/float64(done)))
			return nil
		})
		if err != nil {
			return err
		}
		e := Epoch{Epoch: epoch, TrainLoss: sum / float64(len(order))}
		if cfg.Debias != nil && opt.Log != nil {
			opt.Log.Info("nuisance head", "epoch", epoch, "lambda", cfg.Debias.Lambda, "mse", nsum/float64(len(order)))
		}
		if _, e.TrainAcc, err = evaluate(model, cfg.Task, trainAll, sub, ld); err != nil {
			return err
		}
		if e.ValLoss, e.ValAcc, err = evaluate(model, cfg.Task, val, all(val.Len()), ld); err != nil {
			return err
		}
		e.Seconds = time.Since(t0).Seconds()
		score := "val_acc" // ValAcc is the MSE of a regressor
		if cfg.Task == Regress {
			score = "val_mse"
		}
		prog.Finish(slog.Float64("train_loss", e.TrainLoss), slog.Float64("val_loss", e.ValLoss), slog.Float64(score, e.ValAcc))
		best := len(history) == 0 || e.ValLoss < slices.MinFunc(history, func(a, b Epoch) int {
			return cmpFloat(a.ValLoss, b.ValLoss)
		}).ValLoss
		history = append(history, e)
		if err := saveModel(filepath.Join(dir, "last.cnn"), model); err != nil {
			return err
		}
		if best {
			if err := saveModel(filepath.Join(dir, "best.cnn"), model); err != nil {
				return err
			}
		}
		if err := writeHistory(dir, history); err != nil {
			return err
		}
		if err := learningCurve(dir, cfg.Task, history); err != nil {
			return err
		}
	}
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// shuffled returns a permutation of [0, n) fixed by the seed and the epoch,
// so a resumed run sees the same batches as an uninterrupted one.
func shuffled(n int, seed uint64, epoch int) []int {
	r := rand.New(rand.NewPCG(seed, uint64(epoch)))
	return r.Perm(n)
}

// subset returns n of the indices [0, all), in increasing order, chosen
// once for the run by seed.
func subset(all, n int, seed uint64) []int {
	perm := rand.New(rand.NewPCG(seed, math.MaxUint64)).Perm(all)[:n]
	slices.Sort(perm)
	return perm
}

// evaluate returns the mean loss and the accuracy (classify) or the MSE
// (regress) of model on the images idx of s, in inference mode.
func evaluate(model *cnn.Model, task string, s *dataset.Stream, idx []int, ld dataset.Loader) (loss, acc float64, err error) {
	var lossSum, score float64
	err = predict(model, task, s, idx, ld, func(idx []int, x, pred, y []float32) error {
		l, err := model.Loss(x, y)
		if err != nil {
			return err
		}
		lossSum += l * float64(len(y))
		for i := range pred {
			if task == Regress {
				d := float64(pred[i] - y[i])
				score += d * d
			} else if (pred[i] >= 0.5) == (y[i] == 1) {
				score++
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	n := float64(len(idx))
	return lossSum / n, score / n, nil
}

// predict streams the images idx of s through model in batches and calls
// fn with each batch's indices, pixels, predictions and targets.
func predict(model *cnn.Model, task string, s *dataset.Stream, idx []int, ld dataset.Loader, fn func(idx []int, x, pred, y []float32) error) error {
	var y []float32
	return s.Batches(idx, model.Config().Batch, ld, func(idx []int, x []float32) error {
		pred, err := model.Predict(x)
		if err != nil {
			return err
		}
		y = targets(task, s, idx, y)
		return fn(idx, x, pred, y)
	})
}

// pickInts returns v[idx[0]], v[idx[1]], ….
func pickInts(v, idx []int) []int {
	out := make([]int, len(idx))
	for i, j := range idx {
		out[i] = v[j]
	}
	return out
}

// Epoch is one row of history.csv.
type Epoch struct {
	Epoch              int
	TrainLoss, ValLoss float64
	TrainAcc, ValAcc   float64 // accuracy (classify) or MSE (regress)
	Seconds            float64
}

const historyHeader = "epoch,train_loss,val_loss,train_acc,val_acc,seconds"

func writeHistory(dir string, h []Epoch) error {
	var b bytes.Buffer
	b.WriteString(historyHeader + "\n")
	for _, e := range h {
		fmt.Fprintf(&b, "%d,%.8g,%.8g,%.6g,%.6g,%.3f\n", e.Epoch, e.TrainLoss, e.ValLoss, e.TrainAcc, e.ValAcc, e.Seconds)
	}
	return writeFile(filepath.Join(dir, "history.csv"), b.Bytes())
}

// ReadHistory reads the history.csv of a run directory.
func ReadHistory(dir string) ([]Epoch, error) {
	path := filepath.Join(dir, "history.csv")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) == 0 || lines[0] != historyHeader {
		return nil, fmt.Errorf("%s: header is not %q", path, historyHeader)
	}
	var out []Epoch
	for i, line := range lines[1:] {
		f := strings.Split(line, ",")
		if len(f) != 6 {
			return nil, fmt.Errorf("%s:%d: %d fields, want 6", path, i+2, len(f))
		}
		var e Epoch
		var errs []error
		var err error
		e.Epoch, err = strconv.Atoi(f[0])
		errs = append(errs, err)
		for j, p := range []*float64{&e.TrainLoss, &e.ValLoss, &e.TrainAcc, &e.ValAcc, &e.Seconds} {
			*p, err = strconv.ParseFloat(f[j+1], 64)
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+2, err)
		}
		if e.Epoch != i+1 {
			return nil, fmt.Errorf("%s:%d: epoch %d, want %d", path, i+2, e.Epoch, i+1)
		}
		out = append(out, e)
	}
	return out, nil
}

func learningCurve(dir, task string, h []Epoch) error {
	epochs := make([]int, len(h))
	tr, va := make([]float64, len(h)), make([]float64, len(h))
	for i, e := range h {
		epochs[i], tr[i], va[i] = e.Epoch, e.TrainLoss, e.ValLoss
	}
	ylabel := "binary cross-entropy"
	if task == Regress {
		ylabel = "mean squared error of n"
	}
	return plots.LearningCurve(filepath.Join(dir, "learning_curve.png"), epochs, tr, va, ylabel)
}

// WriteConfig saves cfg as dir/config.json.
func WriteConfig(dir string, cfg Config) error {
	js, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "config.json"), append(js, '\n'))
}

// ReadConfig reads dir/config.json.
func ReadConfig(dir string) (Config, error) {
	var cfg Config
	path := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("run %s: %w", dir, err)
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	cfg.Normalise, cfg.PerImage = cfg.normalisation(), false
	if _, err := dataset.ParseNormalisation(string(cfg.Normalise)); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// normalisation is the run's normalisation: Normalise, or if unset
// PerImageStats when the old PerImage says so, else TrainStats.
func (cfg *Config) normalisation() dataset.Normalisation {
	switch {
	case cfg.Normalise != "":
		return cfg.Normalise
	case cfg.PerImage:
		return dataset.PerImageStats
	}
	return dataset.TrainStats
}

// loadRun reads the configuration and the best model of the run in dir.
func loadRun(dir string) (Config, *cnn.Model, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return cfg, nil, err
	}
	model, err := loadModel(filepath.Join(dir, "best.cnn"))
	return cfg, model, err
}

func writeFile(path string, data []byte) error {
	return atomicfile.Write(path, true, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

func saveModel(path string, m *cnn.Model) error {
	return atomicfile.Write(path, true, func(f *os.File) error { return m.Save(f) })
}

func loadModel(path string) (*cnn.Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := cnn.Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// writeSummary writes summary.txt (like Keras' model.summary()) and
// model.png.
func writeSummary(dir string, m *cnn.Model) error {
	var b bytes.Buffer
	layers := m.Summary()
	fmt.Fprintf(&b, "%-16s %-22s %12s\n", "Layer", "Output shape", "Param #")
	fmt.Fprintln(&b, strings.Repeat("=", 52))
	total := 0
	var pl []plots.Layer
	for _, l := range layers {
		fmt.Fprintf(&b, "%-16s %-22s %12d\n", l.Name, l.Output, l.Params)
		total += l.Params
		pl = append(pl, plots.Layer{Name: l.Name, Output: l.Output, Params: l.Params})
	}
	fmt.Fprintln(&b, strings.Repeat("=", 52))
	fmt.Fprintf(&b, "Total params: %d\n", total)
	if err := writeFile(filepath.Join(dir, "summary.txt"), b.Bytes()); err != nil {
		return err
	}
	return plots.Network(filepath.Join(dir, "model.png"), pl)
}
