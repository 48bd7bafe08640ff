package experiment

import (
	"fmt"
	"math"
	"runtime"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/resources"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/dataset"
)

// Memory estimates. Every command of this package that reads images
// estimates its peak memory from its sizes before it reads or allocates
// anything large, and refuses (a *resources.TooBigError) when the estimate
// exceeds the budget it is given. The images are streamed (dataset.Stream),
// so the estimates grow with the image side, the batch and the loader's
// window, and with the number of images only through per-image bookkeeping.

// perImageBytes is the bookkeeping of an evaluated image: its prediction,
// target, id, the metrics' sorted copies and a line of CSV.
const perImageBytes = 256

// perEmbedBytes is an embedded image's line of embeddings.csv (64 values
// as text), doubled for the growth of the buffer that holds it.
const perEmbedBytes = 2 * 1024

// streamBytes is the memory of streaming images of side size from sims
// simulations, at most largest of them in one pass, in batches of batch on
// workers goroutines: the cache check (one simulation's file and images per
// worker), the cache tables, the loader's two windows (no larger than a
// pass) and its decoders.
func streamBytes(size, sims, largest, batch, workers int) float64 {
	img := 4 * float64(size) * float64(size)
	window := 2 * math.Min(float64(dataset.Loader{}.Images(batch)), float64(largest)*dataset.PerSnapshot) * img
	return float64(workers)*(2*dataset.PerSnapshot*img+3*img+1<<20) + float64(sims)*dataset.PerSnapshot*64 + window
}

// workers is the number of goroutines the commands use.
func workers() int { return runtime.GOMAXPROCS(0) }

// imageSide returns the side of the run's images: cfg.ImageSize, or half
// the manifest's grid.
func imageSide(cfg Config, m *campaign.Manifest) (int, error) {
	if cfg.ImageSize > 0 {
		return cfg.ImageSize, nil
	}
	if m.Params.Grid < 2 {
		return 0, fmt.Errorf("%s: no grid in the manifest: set an image size", cfg.Manifest)
	}
	return m.Params.Grid / 2, nil
}

// sims counts the rows of m of the given classes in the given split ("":
// any split).
func sims(m *campaign.Manifest, split string, classes []string) int {
	n := 0
	for _, r := range m.Rows {
		if split != "" && r.Split != split {
			continue
		}
		for _, c := range classes {
			if r.Class == c {
				n++
				break
			}
		}
	}
	return n
}

func clamp(b float64) int64 {
	if math.IsNaN(b) || b >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(b)
}

// FitMemory returns the estimated peak memory of Fit, in bytes, for cfg
// (its CNN settings) on images of side size, with train and val training
// and validation simulations.
func FitMemory(cfg Config, size, train, val int) int64 {
	c := cfg.CNN
	c.ImageSize = size
	return clamp(float64(c.TrainMemory(workers())) + streamBytes(size, train+val, max(train, val), c.Batch, workers()) +
		float64(train+val)*dataset.PerSnapshot*perImageBytes)
}

// inferMemory returns the estimated peak memory of evaluating cfg's model
// on images of side size from sims simulations, with perImage bytes kept for
// each image.
func inferMemory(cfg Config, size, sims int, perImage float64) int64 {
	c := cfg.CNN
	c.ImageSize = size
	return clamp(float64(c.TrainMemory(workers())) + streamBytes(size, sims, sims, c.Batch, workers()) +
		float64(sims)*dataset.PerSnapshot*perImage)
}

// fits checks need against lim (nil: no check).
func fits(lim *resources.Limits, what string, need int64, remedy string) error {
	if lim == nil {
		return nil
	}
	return lim.Fit(what, need, remedy)
}

// ProbeMemory returns the estimated peak memory of ProbeRun, in bytes, for
// the run cfg on images of side size, with train training and hold holdout
// simulations.
func ProbeMemory(cfg Config, size, train, hold int) int64 {
	return probeMemory(cfg, size, train, hold, probeMaxTrain)
}

// probeMemory is ProbeMemory with at most maxTrain training images read:
// the model's buffers, the two streams (one pass at a time), and what is
// kept of each image read (its embedding as float64, nuisance, class and
// prediction, the probe's fitted values and the metrics' copies), plus the
// normal equations of the probe (d² float64 and their factor). The pixels
// cost only the streams' windows, whatever the campaign's size.
func probeMemory(cfg Config, size, train, hold, maxTrain int) int64 {
	c := cfg.CNN
	c.ImageSize = size
	read := math.Min(float64(train)*dataset.PerSnapshot, float64(maxTrain))
	largest := max(int(math.Ceil(read/dataset.PerSnapshot)), hold)
	d := float64(embedWidth(c))
	kept := (read + float64(hold)*dataset.PerSnapshot) * (8*d + 24 + perImageBytes)
	return clamp(float64(c.TrainMemory(workers())) + streamBytes(size, train+hold, largest, c.Batch, workers()) + kept + 2*8*d*d)
}

// embedWidth is the width of the embedding of the network c (what
// cnn.Model.Embed returns): the last hidden dense layer, or the flattened
// features of the last convolution block when there is none.
func embedWidth(c cnn.Config) int {
	if len(c.Dense) > 0 {
		return c.Dense[len(c.Dense)-1]
	}
	if len(c.Filters) == 0 {
		return 0
	}
	s := c.ImageSize
	for range c.Filters {
		s /= 2
	}
	return c.Filters[len(c.Filters)-1] * s * s
}

// checkProbe refuses a probe of the run cfg, reading at most maxTrain
// training images, whose memory estimate exceeds lim.
func checkProbe(cfg Config, lim *resources.Limits, maxTrain int) error {
	if lim == nil {
		return nil
	}
	m, size, err := manifestSide(cfg)
	if err != nil {
		return err
	}
	classes := classesFor(cfg.Task)
	train, hold := sims(m, campaign.Train, classes), sims(m, campaign.Holdout, classes)
	need := probeMemory(cfg, size, train, hold, maxTrain)
	return fits(lim, fmt.Sprintf("train probe on %d² images (%d training, %d holdout)", size, min(train*dataset.PerSnapshot, maxTrain), hold*dataset.PerSnapshot), need,
		"run where more memory is given (--memory overrides the detected budget)")
}

// PredictMemory returns the estimated peak memory of PredictStream, in
// bytes, with the run cfg on the images of sims simulations of side size,
// the caller keeping perImage bytes of each image besides its prediction.
func PredictMemory(cfg Config, size, sims int, perImage float64) int64 {
	return inferMemory(cfg, size, sims, 4+perImage)
}

// manifestSide reads the campaign manifest of the run cfg and the side of
// its images in pixels, which the memory estimates start from.
func manifestSide(cfg Config) (*campaign.Manifest, int, error) {
	m, err := campaign.ReadFile(cfg.Manifest)
	if err != nil {
		return nil, 0, err
	}
	size, err := imageSide(cfg, m)
	return m, size, err
}
