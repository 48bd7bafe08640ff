package resolution

import (
	"log/slog"
	"math"
	"runtime"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/experiment"
)

// Memory model of Run. The holdout images are streamed (dataset.Stream),
// so the estimate grows with the image sides, the batches and the loader's
// windows, and with the number of images only through what is kept of
// each: its label, id and score, and the streams' tables.

// runtimeBytes is the Go runtime and the binary.
const runtimeBytes = 25 << 20

// keptBytes is what the study keeps of a holdout image for the whole run:
// its label and id, the stream tables' entries at both sizes, and during a
// cell its prediction, score and the metrics' sorted copies.
const keptBytes = 256

// Memory returns the estimated peak memory of Run with o, in bytes, from
// the campaigns' manifests and the runs' configurations; it fails as Run
// does on campaigns that do not make a study.
func Memory(o Options) (int64, error) {
	gs, err := grids(o, slog.New(slog.DiscardHandler))
	if err != nil {
		return 0, err
	}
	return memory(gs, imageSize(o, gs))
}

// memory is Memory for the grids gs at the common image side size: what is
// kept of every grid's holdout images, plus the larger of the passes over
// one grid's holdout — through the largest of the CNNs at the common size,
// or the spectra at the native size — each with the filling of the image
// cache (a snapshot's three N² Σ maps and its 48 images per worker).
func memory(gs []*grid, size int) (int64, error) {
	workers := float64(runtime.GOMAXPROCS(0))
	var cfgs []experiment.Config
	for _, g := range gs {
		if g.c.Run == "" {
			continue
		}
		cfg, err := experiment.ReadConfig(g.c.Run)
		if err != nil {
			return 0, err
		}
		cfgs = append(cfgs, cfg)
	}
	var kept, pass float64
	for _, g := range gs {
		sims := 0
		for _, r := range g.m.Rows {
			if r.Split == campaign.Holdout && (r.Class == campaign.Kolmogorov || r.Class == campaign.Burgers) {
				sims++
			}
		}
		images := float64(sims * dataset.PerSnapshot)
		kept += images * keptBytes
		sigma := workers * 12 * float64(g.n) * float64(g.n)
		for _, cfg := range cfgs {
			pass = math.Max(pass, float64(experiment.PredictMemory(cfg, size, sims, 0))+sigma)
		}
		// The spectra read one flip of the images (a quarter) at N/2, and
		// transform one at a time (the row FFT's complex coefficients).
		native := float64(g.n / 2)
		img := 4 * native * native
		window := 2 * math.Min(float64(dataset.Loader{}.Images(spectrumBatch)), images/4) * img
		fill := workers * (2*dataset.PerSnapshot*img + 1<<20)
		pass = math.Max(pass, runtimeBytes+window+fill+sigma+6*img)
	}
	total := kept + pass
	if math.IsNaN(total) || total >= math.MaxInt64 {
		return math.MaxInt64, nil
	}
	return int64(total), nil
}
