// Package resolution runs the resolution study: the same simulations (one
// campaign seed, hence the same initial conditions) at several grids N, a
// CNN trained at each N, and every CNN tested on the holdout images of every
// N, all resampled to the same pixel scale in pc (the same image side for the
// quadrant's half box at every N). A grid may be tested on only: then it
// needs no run, and only its holdout simulations. It writes the train N × test N accuracy
// matrix (resolution.csv, resolution.png), the power spectrum of log Σ of
// each N and class (spectrum.csv, spectrum.png: where the resolutions part)
// and a report (index.html, metrics.json).
package resolution

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/turbindex/turbindex/analysis/report"
	"github.com/turbindex/turbindex/analysis/spectrum"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/atomicfile"
	"github.com/turbindex/turbindex/internal/buildinfo"
	"github.com/turbindex/turbindex/internal/resources"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/experiment"
	"github.com/turbindex/turbindex/train/metrics"
	"github.com/turbindex/turbindex/train/plots"
)

// Campaign is one resolution of the study.
type Campaign struct {
	Manifest, Snapshots string
	// Run is the directory of a classifier trained on this campaign's
	// images at Options.ImageSize (train fit); "" for a campaign that is
	// only tested on.
	Run string
}

// Options configure the study.
type Options struct {
	Campaigns []Campaign // any order; sorted by grid
	// ImageSize is the common image side, pixels (0: the smallest grid's
	// N/2, so that no campaign's images are magnified).
	ImageSize int
	// Cache is the image cache directory, one subdirectory per grid (the
	// campaigns share their ids); "" means Out/cache. The images are read
	// from it a window at a time, never a split at once.
	Cache string
	Out   string // report directory
	Log   *slog.Logger
	// Limits, if not nil, is the memory budget: Run refuses with a
	// *resources.TooBigError, before it reads any image, a study whose
	// estimate (Memory) exceeds it.
	Limits *resources.Limits
}

// Cell is one entry of the matrix: the CNN trained at Train tested at Test.
type Cell struct {
	Train, Test    int // grids N
	Accuracy, AUC  float64
	PerSimAccuracy float64
	Images         int
}

type grid struct {
	n        int
	c        Campaign
	m        *campaign.Manifest
	holdout  *dataset.Stream // at the common size, raw log10 Σ: only the cache's tables are held
	labels   []int
	ids      []string
	boxPc    float64
	seeds    []uint64
	spectrum map[string][2][]float64 // class → (k in 1/pc, mean power)
}

// cache returns the grid's image cache directory under dir: the campaigns
// share their ids, so each grid has its own.
func (g *grid) cache(dir string) string {
	return filepath.Join(dir, strconv.Itoa(g.n))
}

// cacheDir is the study's image cache: o.Cache, or Out/cache.
func (o Options) cacheDir() string {
	if o.Cache != "" {
		return o.Cache
	}
	return filepath.Join(o.Out, "cache")
}

// holdoutClasses returns the classes whose holdout images the study reads.
func holdoutClasses() []string { return []string{campaign.Kolmogorov, campaign.Burgers} }

// grids reads the campaigns' manifests and returns their grids sorted by
// N, checking that there are at least two, at different N, with the same
// box.
func grids(o Options, log *slog.Logger) ([]*grid, error) {
	if len(o.Campaigns) < 2 {
		return nil, fmt.Errorf("resolution: %d campaigns given: want at least two grids", len(o.Campaigns))
	}
	var gs []*grid
	for _, c := range o.Campaigns {
		m, err := campaign.ReadFile(c.Manifest)
		if err != nil {
			return nil, err
		}
		g := &grid{n: m.Params.Grid, c: c, m: m, boxPc: m.Params.BoxPc}
		for _, r := range m.Rows {
			g.seeds = append(g.seeds, r.Seed)
		}
		for _, h := range gs {
			if h.n == g.n {
				return nil, fmt.Errorf("resolution: %s and %s are both at N = %d", h.c.Manifest, c.Manifest, g.n)
			}
		}
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(a, b *grid) int { return a.n - b.n })
	for _, g := range gs[1:] {
		if g.boxPc != gs[0].boxPc {
			return nil, fmt.Errorf("resolution: %s has a box of %g pc, %s %g pc: the pixel scales cannot be matched", g.c.Manifest, g.boxPc, gs[0].c.Manifest, gs[0].boxPc)
		}
		if !slices.Equal(g.seeds, gs[0].seeds) {
			log.Warn("the campaigns' seeds differ: not the same initial conditions at every N", "a", gs[0].c.Manifest, "b", g.c.Manifest)
		}
	}
	return gs, nil
}

// imageSize is the study's common image side: o.ImageSize, or the
// smallest grid's N/2.
func imageSize(o Options, gs []*grid) int {
	if o.ImageSize > 0 {
		return o.ImageSize
	}
	return gs[0].n / 2
}

// Run performs the study. The holdout images of every grid are streamed
// from the image cache, a window at a time: through each CNN at the common
// size, and at their native size for the spectra. What is kept of an image
// is its label and prediction, so the memory does not grow with the
// campaigns beyond that (Memory).
func Run(o Options) ([]Cell, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t0 := time.Now()
	gs, err := grids(o, log)
	if err != nil {
		return nil, err
	}
	size := imageSize(o, gs)
	if o.Limits != nil {
		need, err := memory(gs, size)
		if err != nil {
			return nil, err
		}
		if err := o.Limits.Fit(fmt.Sprintf("analysis resolution on %d grids at %d² images", len(gs), size), need,
			"run where more memory is given (--memory overrides the detected budget)"); err != nil {
			return nil, err
		}
	}
	cache := o.cacheDir()
	for _, g := range gs {
		g.holdout, err = dataset.OpenStream(g.m, g.c.Snapshots, dataset.Options{Size: size, Splits: []string{campaign.Holdout},
			Classes: holdoutClasses(), Cache: g.cache(cache), Warn: func(s string) { log.Warn(s) }})
		if err != nil {
			return nil, err
		}
		for i := range g.holdout.Len() {
			l := g.holdout.Label(i)
			y := 0
			if l.Class == campaign.Burgers {
				y = 1
			}
			g.labels, g.ids = append(g.labels, y), append(g.ids, l.ID)
		}
		if g.spectrum, err = spectra(g, g.cache(cache), log); err != nil {
			return nil, err
		}
		log.Info("resolution: images and spectra", "grid", g.n, "holdout_images", g.holdout.Len(), "seconds", time.Since(t0).Seconds())
	}
	var cells []Cell
	for _, tr := range gs {
		if tr.c.Run == "" {
			continue
		}
		for _, te := range gs {
			idx := make([]int, te.holdout.Len())
			for i := range idx {
				idx[i] = i
			}
			p, err := experiment.PredictStream(tr.c.Run, te.holdout, idx, nil)
			if err != nil {
				return nil, fmt.Errorf("CNN of N = %d on the holdout of N = %d: %w", tr.n, te.n, err)
			}
			s := make([]float64, len(p))
			for i, v := range p {
				s[i] = float64(v) - 0.5
			}
			cm, err := metrics.ClassifyAt(s, te.labels, 0)
			if err != nil {
				return nil, err
			}
			keys, means := metrics.GroupMean(s, te.ids)
			_, lab := metrics.GroupMean(f64(te.labels), te.ids)
			right := 0
			for i := range keys {
				if (means[i] >= 0) == (lab[i] == 1) {
					right++
				}
			}
			cells = append(cells, Cell{Train: tr.n, Test: te.n, Accuracy: cm.Accuracy, AUC: cm.AUC,
				PerSimAccuracy: float64(right) / float64(len(keys)), Images: cm.N})
		}
	}
	if len(cells) == 0 {
		return nil, fmt.Errorf("resolution: no campaign has a CNN run: nothing to test")
	}
	return cells, write(o, gs, size, cells)
}

// spectrumBatch is the number of images handed to the spectra at a time.
const spectrumBatch = 16

// spectra returns the mean power spectrum of log10 Σ per class of the
// campaign's holdout images at their native resolution (quadrants of N/2 pixels,
// one flip: the flips have the same spectrum), with k in cycles per pc and
// the power in dex² pc². The images are streamed from the cache and
// summed in the order of the holdout, as when it was loaded whole.
func spectra(g *grid, cache string, log *slog.Logger) (map[string][2][]float64, error) {
	set, err := dataset.OpenStream(g.m, g.c.Snapshots, dataset.Options{Classes: holdoutClasses(),
		Splits: []string{campaign.Holdout}, Cache: cache, Warn: func(s string) { log.Warn(s) }})
	if err != nil {
		return nil, err
	}
	var idx []int
	for i := range set.Len() {
		if set.Label(i).Flip == 0 {
			idx = append(idx, i)
		}
	}
	side := g.boxPc / 2 // a quadrant's side, pc
	sum, count := map[string][]float64{}, map[string]int{}
	var kk []float64
	px := set.Size * set.Size
	err = set.Batches(idx, spectrumBatch, dataset.Loader{}, func(idx []int, x []float32) error {
		for j, i := range idx {
			l := set.Label(i)
			k, pw, err := spectrum.Shells(x[j*px:(j+1)*px], set.Size, "hann")
			if err != nil {
				return fmt.Errorf("%s: %w", l.ID, err)
			}
			if kk == nil {
				kk = k
			}
			if sum[l.Class] == nil {
				sum[l.Class] = make([]float64, len(pw))
			}
			for b, v := range pw {
				sum[l.Class][b] += v
			}
			count[l.Class]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Shells' power is per pixel (its sum over modes is S² times the
	// variance); times the pixel area it becomes the physical spectrum
	// |∫ f e^{−ik·x} d²x|²/area, in dex² pc², the same at every N for the
	// same field.
	pixel := side / float64(g.n/2) // pc
	out := map[string][2][]float64{}
	for class, s := range sum {
		x, y := make([]float64, len(s)), make([]float64, len(s))
		for i := range s {
			x[i] = kk[i] / side // cycles per image → cycles per pc
			y[i] = s[i] / float64(count[class]) * pixel * pixel
		}
		out[class] = [2][]float64{x, y}
	}
	return out, nil
}

func f64(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// write writes the CSVs, the figures and the report.
func write(o Options, gs []*grid, size int, cells []Cell) error {
	if err := os.MkdirAll(o.Out, 0o777); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("train_grid,test_grid,accuracy,auc,per_sim_accuracy,images\n")
	for _, c := range cells {
		fmt.Fprintf(&b, "%d,%d,%.6g,%.6g,%.6g,%d\n", c.Train, c.Test, c.Accuracy, c.AUC, c.PerSimAccuracy, c.Images)
	}
	if err := atomicfile.WriteBytes(filepath.Join(o.Out, "resolution.csv"), b.Bytes()); err != nil {
		return err
	}
	var trains []int
	for _, c := range cells {
		if !slices.Contains(trains, c.Train) {
			trains = append(trains, c.Train)
		}
	}
	var cols, rows []string
	for _, g := range gs {
		cols = append(cols, "N = "+strconv.Itoa(g.n))
	}
	vals := make([][]float64, len(trains))
	tab := report.Table{Title: "Holdout accuracy, CNN trained at one N (row) and tested at every N (column)"}
	for _, g := range gs {
		tab.Columns = append(tab.Columns, "test_"+strconv.Itoa(g.n))
	}
	for i, tr := range trains {
		rows = append(rows, "N = "+strconv.Itoa(tr))
		vals[i] = make([]float64, len(gs))
		row := report.Row{Method: fmt.Sprintf("CNN trained at N = %d", tr), Values: map[string]float64{}}
		for j, g := range gs {
			vals[i][j] = math.NaN()
			for _, c := range cells {
				if c.Train == tr && c.Test == g.n {
					vals[i][j] = c.Accuracy
					row.Values["test_"+strconv.Itoa(g.n)] = c.Accuracy
				}
			}
		}
		tab.Rows = append(tab.Rows, row)
	}
	if err := plots.Matrix(filepath.Join(o.Out, "resolution.png"), vals, rows, cols, 0.5, 1, "tested at", "trained at",
		fmt.Sprintf("Holdout accuracy across resolutions (%d² images)", size)); err != nil {
		return err
	}
	b.Reset()
	b.WriteString("grid,class,k_per_pc,power\n")
	var curves []plots.Curve
	for i, g := range gs {
		for _, class := range []string{campaign.Kolmogorov, campaign.Burgers} {
			s, ok := g.spectrum[class]
			if !ok {
				continue
			}
			for j := range s[0] {
				fmt.Fprintf(&b, "%d,%s,%.6g,%.6g\n", g.n, class, s[0][j], s[1][j])
			}
			curves = append(curves, plots.Curve{Name: fmt.Sprintf("N = %d, %s", g.n, class), X: s[0], Y: s[1],
				Dashed: class == campaign.Burgers, Color: i})
		}
	}
	if err := atomicfile.WriteBytes(filepath.Join(o.Out, "spectrum.csv"), b.Bytes()); err != nil {
		return err
	}
	if err := plots.LogLog(filepath.Join(o.Out, "spectrum.png"), curves, "k (cycles per pc)", "P(k) of log10 Σ (dex² pc²)",
		"Column-density power spectrum per resolution"); err != nil {
		return err
	}
	r := report.Report{Title: "turbindex: does the CNN survive a change of resolution?", CodeVersion: buildinfo.Version(),
		Created: time.Now().UTC().Format(time.RFC3339), Parameters: map[string]string{"image_size": strconv.Itoa(size),
			"box_pc":   strconv.FormatFloat(gs[0].boxPc, 'g', -1, 64),
			"pixel_pc": strconv.FormatFloat(gs[0].boxPc/2/float64(size), 'g', 4, 64)},
		Tables: []report.Table{tab},
		Figures: []report.Figure{
			{File: "resolution.png", Caption: "Holdout accuracy of the CNN trained at each N (rows) on the holdout images of every N (columns), all images resampled to the same pixels in pc"},
			{File: "spectrum.png", Caption: "Mean power spectrum of log10 Σ of the holdout quadrant images at their native resolution, per N (colour) and class (solid Kolmogorov, dashed Burgers): where the curves part, the resolutions differ"},
		}}
	for _, g := range gs {
		r.Parameters["campaign_"+strconv.Itoa(g.n)] = g.c.Manifest
	}
	return report.Write(o.Out, r)
}
