package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/atomicfile"
	"github.com/turbindex/turbindex/internal/progress"
	"github.com/turbindex/turbindex/train/autoenc"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/plots"
)

// Autoencode is the task of the autoencoder run: reproduce the training
// images, so that the reconstruction error says how unlike them an image
// is.
const Autoencode = "autoencode"

// AutoencoderChannels is the default number of hidden channels.
const AutoencoderChannels = 8

// ReconStats is autoencoder.json: the reconstruction errors (mean squared
// error per pixel of the standardised image) of the holdout images.
type ReconStats struct {
	Images int       `json:"images"`
	P50    float64   `json:"p50"`
	P90    float64   `json:"p90"`
	P99    float64   `json:"p99"`
	Max    float64   `json:"max"`
	Sorted []float64 `json:"sorted"` // every holdout error, ascending
}

// Percentile returns the percentage of the holdout errors at or below e.
func (r *ReconStats) Percentile(e float64) float64 {
	k := sort.SearchFloat64s(r.Sorted, math.Nextafter(e, math.Inf(1)))
	return 100 * float64(k) / float64(len(r.Sorted))
}

// quantile returns the q-quantile of sorted values (linear interpolation).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	x := q * float64(len(sorted)-1)
	i := int(x)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (x-float64(i))*(sorted[i+1]-sorted[i])
}

// fitAutoencoder trains the autoencoder on the training split's images
// (standardised as a classifier's), keeps the model of lowest validation
// error as best.ae, and writes the holdout's reconstruction errors
// (recon-holdout.csv, autoencoder.json, recon_holdout.png).
func fitAutoencoder(ctx context.Context, dir string, cfg Config, opt FitOptions) error {
	if opt.Resume {
		return fmt.Errorf("an %s run does not resume: it is short; start it again with another --out", Autoencode)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "history.csv")); err == nil {
		return fmt.Errorf("run directory %s already holds a run: use another --out", dir)
	}
	data, err := loadSplits(&cfg, []string{campaign.Train, campaign.Test, campaign.Holdout}, opt.Log)
	if err != nil {
		return err
	}
	if cfg.AE == nil {
		cfg.AE = &autoenc.Config{Channels: AutoencoderChannels, LearnRate: cfg.CNN.LearnRate}
	}
	cfg.AE.Size, cfg.AE.Seed = cfg.ImageSize, cfg.Seed
	if cfg.ImageSize%4 != 0 {
		return fmt.Errorf("the autoencoder needs an image side that is a multiple of 4, not %d: give --image-size", cfg.ImageSize)
	}
	model, err := autoenc.New(*cfg.AE)
	if err != nil {
		return err
	}
	cfg.Created = time.Now().UTC().Format(time.RFC3339)
	if err := WriteConfig(dir, cfg); err != nil {
		return err
	}
	train, val := data[campaign.Train], data[campaign.Test]
	batch := max(1, cfg.CNN.Batch)
	s2 := cfg.ImageSize * cfg.ImageSize
	x := make([]float32, 0, batch*s2)
	var history []Epoch
	best := math.Inf(1)
	if opt.Log != nil {
		opt.Log.Info("training the autoencoder", "train_images", len(train), "val_images", len(val), "image_size", cfg.ImageSize,
			"channels", cfg.AE.Channels, "params", model.Params(), "epochs", cfg.Epochs)
	}
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted in epoch %d: %w", epoch, err)
		}
		t0 := time.Now()
		order := shuffled(len(train), cfg.Seed, epoch)
		prog := progress.New(opt.Progress, opt.Log, fmt.Sprintf("epoch %d/%d", epoch, cfg.Epochs), float64(len(order)), opt.LogInterval)
		var sum float64
		for b := 0; b < len(order); b += batch {
			x = x[:0]
			idx := order[b:min(b+batch, len(order))]
			for _, i := range idx {
				x = append(x, train[i].Pix...)
			}
			loss, err := model.TrainStep(x)
			if err != nil {
				return fmt.Errorf("epoch %d: %w", epoch, err)
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return fmt.Errorf("epoch %d: the loss is %v: lower --lr", epoch, loss)
			}
			sum += loss * float64(len(idx))
			prog.Update(float64(b+len(idx)), slog.Float64("loss", sum/float64(b+len(idx))))
		}
		e := Epoch{Epoch: epoch, TrainLoss: sum / float64(len(order))}
		vErr, err := model.Errors(pixelsOf(val))
		if err != nil {
			return err
		}
		e.ValLoss = mean(vErr)
		e.Seconds = time.Since(t0).Seconds()
		prog.Finish(slog.Float64("train_loss", e.TrainLoss), slog.Float64("val_loss", e.ValLoss))
		history = append(history, e)
		if e.ValLoss < best {
			best = e.ValLoss
			if err := atomicfile.Write(filepath.Join(dir, "best.ae"), true, func(f *os.File) error { return model.Save(f) }); err != nil {
				return err
			}
		}
		if err := writeHistory(dir, history); err != nil {
			return err
		}
		epochs := make([]int, len(history))
		tr, va := make([]float64, len(history)), make([]float64, len(history))
		for i, h := range history {
			epochs[i], tr[i], va[i] = h.Epoch, h.TrainLoss, h.ValLoss
		}
		if err := plots.LearningCurve(filepath.Join(dir, "learning_curve.png"), epochs, tr, va, "reconstruction MSE (standardised log Σ)"); err != nil {
			return err
		}
	}
	bestModel, err := loadAutoencoder(dir)
	if err != nil {
		return err
	}
	hold := data[campaign.Holdout]
	errs, err := bestModel.Errors(pixelsOf(hold))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("id,class,projection,flip,quadrant,recon_error\n")
	for i, im := range hold {
		l := im.Label
		fmt.Fprintf(&b, "%s,%s,%d,%d,%d,%s\n", l.ID, l.Class, l.Projection, l.Flip, l.Quadrant, strconv.FormatFloat(errs[i], 'g', -1, 64))
	}
	if err := writeFile(filepath.Join(dir, "recon-holdout.csv"), b.Bytes()); err != nil {
		return err
	}
	st := newReconStats(errs)
	js, _ := json.MarshalIndent(st, "", "  ")
	if err := writeFile(filepath.Join(dir, "autoencoder.json"), append(js, '\n')); err != nil {
		return err
	}
	if opt.Log != nil {
		opt.Log.Info("holdout reconstruction errors", "images", st.Images, "p50", st.P50, "p99", st.P99)
	}
	return plots.Histogram(filepath.Join(dir, "recon_holdout.png"), map[string][]float64{"holdout images": errs}, 30,
		"reconstruction MSE (standardised log Σ)", "autoencoder: reconstruction errors of the holdout")
}

func newReconStats(errs []float64) *ReconStats {
	s := slices.Clone(errs)
	slices.Sort(s)
	return &ReconStats{Images: len(s), P50: quantile(s, 0.5), P90: quantile(s, 0.9), P99: quantile(s, 0.99), Max: s[len(s)-1], Sorted: s}
}

func pixelsOf(images []dataset.Image) []float32 {
	var x []float32
	for _, im := range images {
		x = append(x, im.Pix...)
	}
	return x
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func loadAutoencoder(dir string) (*autoenc.Model, error) {
	path := filepath.Join(dir, "best.ae")
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := autoenc.Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ReadReconStats reads autoencoder.json of an autoencoder run.
func ReadReconStats(dir string) (*ReconStats, error) {
	path := filepath.Join(dir, "autoencoder.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st ReconStats
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(st.Sorted) == 0 || !slices.IsSorted(st.Sorted) {
		return nil, fmt.Errorf("%s: no sorted holdout errors", path)
	}
	return &st, nil
}

// TileRealism is how unlike the training images the tiles of a map are,
// by the autoencoder run.
type TileRealism struct {
	Run       string    `json:"run"`
	Errors    []float64 `json:"-"`
	Percent   []float64 `json:"-"`                  // percentile of each tile's error among the holdout's
	Median    float64   `json:"median_percentile"`  // of the tiles' percentiles
	BeyondP99 float64   `json:"fraction_beyond_99"` // fraction of tiles above the holdout's 99th percentile
	HoldP99   float64   `json:"holdout_p99"`
	MedianErr float64   `json:"median_error"`
}

// autoencoderCheck computes the reconstruction errors of tiles (raw log Σ,
// copied) by the autoencoder run aeDir, standardised as that run's images,
// and their percentiles among its holdout's errors.
func autoencoderCheck(aeDir string, tiles []dataset.Image, pixelPc float64) (*TileRealism, error) {
	cfg, err := ReadConfig(aeDir)
	if err != nil {
		return nil, err
	}
	if cfg.Task != Autoencode {
		return nil, fmt.Errorf("--autoencoder %s is a %s run, not an %s one", aeDir, cfg.Task, Autoencode)
	}
	pc, err := cfg.pixelPc()
	if err != nil {
		return nil, err
	}
	if len(tiles) > 0 && (tiles[0].Size != cfg.ImageSize || math.Abs(pc/pixelPc-1) > 1e-6) {
		return nil, fmt.Errorf("--autoencoder %s reads %d² images of %.4g pc pixels; the run's tiles are %d² of %.4g pc", aeDir, cfg.ImageSize, pc, tiles[0].Size, pixelPc)
	}
	model, err := loadAutoencoder(aeDir)
	if err != nil {
		return nil, err
	}
	st, err := ReadReconStats(aeDir)
	if err != nil {
		return nil, err
	}
	x := make([]float32, 0, len(tiles)*cfg.ImageSize*cfg.ImageSize)
	for _, t := range tiles {
		start := len(x)
		x = append(x, t.Pix...)
		cfg.standardise(x[start:])
	}
	errs, err := model.Errors(x)
	if err != nil {
		return nil, err
	}
	r := &TileRealism{Run: aeDir, Errors: errs, Percent: make([]float64, len(errs)), HoldP99: st.P99}
	beyond := 0
	for i, e := range errs {
		r.Percent[i] = st.Percentile(e)
		if e > st.P99 {
			beyond++
		}
	}
	r.Median = median(r.Percent)
	r.MedianErr = median(errs)
	r.BeyondP99 = float64(beyond) / float64(len(errs))
	return r, nil
}
