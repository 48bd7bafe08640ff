package experiment

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/turbindex/turbindex/analysis/spectrum"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/metrics"
	"github.com/turbindex/turbindex/train/skymap"
)

// RealismFeatures name the features of a tile the realism classifier sees,
// all of its log10 Σ pixels before any standardisation.
var RealismFeatures = []string{"mean", "log10_std", "skewness", "kurtosis", "gradient", "spectrum_slope"}

// RealismOptions say how to read the map and cross-validate.
type RealismOptions struct {
	Map      skymap.Options
	MaxHoles float64
	Folds    int // cross-validation folds (at most the number of map tiles)
	Out      string
	Log      *slog.Logger
}

// RealismResult is realism.json.
type RealismResult struct {
	Run string  `json:"run"`
	Map string  `json:"map"`
	AUC float64 `json:"auc"` // cross-validated: 0.5 indistinguishable, 1 always told apart
	// SimAUCs are the AUCs of each training simulation told from the others
	// the same way, ascending: what a map that is a simulation gets.
	SimAUCs []float64 `json:"simulation_aucs"`
	// Percentile is the map's AUC's percentile among SimAUCs.
	Percentile float64   `json:"percentile"`
	Folds      int       `json:"folds"`
	SimTiles   int       `json:"simulation_tiles"`
	MapTiles   int       `json:"map_tiles"` // overlapping by half a tile
	Features   []string  `json:"features"`
	SimMean    []float64 `json:"simulation_feature_means"`
	MapMean    []float64 `json:"map_feature_means"`
}

// tileFeatures returns RealismFeatures of a size² tile of log10 Σ.
func tileFeatures(pix []float32, size int) []float64 {
	n := float64(len(pix))
	var mu float64
	for _, v := range pix {
		mu += float64(v)
	}
	mu /= n
	var m2, m3, m4 float64
	for _, v := range pix {
		d := float64(v) - mu
		m2 += d * d
		m3 += d * d * d
		m4 += d * d * d * d
	}
	m2, m3, m4 = m2/n, m3/n, m4/n
	sd := math.Sqrt(m2)
	var skew, kurt, grad float64
	if sd > 0 {
		skew, kurt = m3/(sd*sd*sd), m4/(m2*m2)-3
		var g float64
		for r := range size - 1 {
			for c := range size - 1 {
				i := r*size + c
				g += math.Hypot(float64(pix[i+1]-pix[i]), float64(pix[i+size]-pix[i]))
			}
		}
		grad = g / float64((size-1)*(size-1)) / sd
	}
	slope, err := spectrum.Slope(pix, size, spectrum.Options{})
	if err != nil {
		slope = 0
	}
	return []float64{mu, math.Log10(sd + 1e-12), skew, kurt, grad, slope}
}

// logistic fits a class-balanced, L2-regularised logistic regression on
// standardised features by gradient descent and returns a scorer.
func logistic(x [][]float64, y []int) func([]float64) float64 {
	d := len(x[0])
	mu, sd := make([]float64, d), make([]float64, d)
	for _, r := range x {
		for j, v := range r {
			mu[j] += v
		}
	}
	for j := range mu {
		mu[j] /= float64(len(x))
	}
	for _, r := range x {
		for j, v := range r {
			sd[j] += (v - mu[j]) * (v - mu[j])
		}
	}
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / float64(len(x)))
		if sd[j] == 0 {
			sd[j] = 1
		}
	}
	var npos int
	for _, v := range y {
		npos += v
	}
	wpos, wneg := 0.5/float64(max(npos, 1)), 0.5/float64(max(len(y)-npos, 1))
	w := make([]float64, d+1)
	z := func(r []float64) float64 {
		s := w[d]
		for j, v := range r {
			s += w[j] * (v - mu[j]) / sd[j]
		}
		return s
	}
	const lr, l2 = 0.5, 1e-2
	g := make([]float64, d+1)
	for range 500 {
		clear(g)
		for i, r := range x {
			p := 1 / (1 + math.Exp(-z(r)))
			cw := wneg
			if y[i] == 1 {
				cw = wpos
			}
			e := cw * (p - float64(y[i]))
			for j, v := range r {
				g[j] += e * (v - mu[j]) / sd[j]
			}
			g[d] += e
		}
		for j := range d {
			g[j] += l2 * w[j]
		}
		for j := range w {
			w[j] -= lr * g[j]
		}
	}
	return z
}

// Realism trains a classifier to tell the run's training images from the
// tiles of the map (overlapping by half a tile) and returns its
// cross-validated AUC: about 0.5 when the map's tiles look like the
// simulations' by these features, near 1 when they are told apart.
// Simulation tiles are grouped by simulation and map tiles by position in
// the folds, so that no fold tests on a neighbour of what it trained on.
func Realism(dir, mapPath string, opt RealismOptions) (*RealismResult, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	runPc, err := cfg.pixelPc()
	if err != nil {
		return nil, err
	}
	opt.Map.MaxValues = MaxMapValues
	m, err := skymap.Read(mapPath, opt.Map)
	if err != nil {
		return nil, err
	}
	rm, err := skymap.Resample(m, runPc, MaxMapValues)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mapPath, err)
	}
	tiles, _, err := skymap.TilesStride(rm, cfg.ImageSize, max(1, cfg.ImageSize/2), opt.MaxHoles)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (the run %s reads %d² tiles of %.4g pc pixels)", mapPath, err, dir, cfg.ImageSize, runPc)
	}
	if len(tiles) < 2 {
		return nil, fmt.Errorf("%s: %d tile: cross-validation needs at least 2 map tiles (a map of at least %d × %d pixels of %.4g pc)", mapPath, len(tiles), cfg.ImageSize*3/2, cfg.ImageSize, runPc)
	}
	sims, err := realismSims(&cfg, opt.Log)
	if err != nil {
		return nil, err
	}
	var ids []string
	bySim := map[string][][]float64{}
	for _, im := range sims {
		if _, ok := bySim[im.Label.ID]; !ok {
			ids = append(ids, im.Label.ID)
		}
		bySim[im.Label.ID] = append(bySim[im.Label.ID], tileFeatures(im.Pix, im.Size))
	}
	mapX := make([][]float64, len(tiles))
	for i, t := range tiles {
		mapX[i] = tileFeatures(t.Pix, cfg.ImageSize)
	}
	auc, folds, err := cvAUC(bySim, ids, mapX, opt.Folds)
	if err != nil {
		return nil, fmt.Errorf("realism: %w", err)
	}
	// The reference: each training simulation in turn taken for the map and
	// told from the others, with the same classifier and folds.
	var ref []float64
	for k, id := range ids {
		others := slices.Delete(slices.Clone(ids), k, k+1)
		a, _, err := cvAUC(bySim, others, bySim[id], opt.Folds)
		if err == nil {
			ref = append(ref, a)
		}
	}
	slices.Sort(ref)
	var x [][]float64
	var y []int
	for _, id := range ids {
		for _, r := range bySim[id] {
			x, y = append(x, r), append(y, 0)
		}
	}
	for _, r := range mapX {
		x, y = append(x, r), append(y, 1)
	}
	res := &RealismResult{Run: dir, Map: mapPath, AUC: auc, Folds: folds, SimAUCs: ref, SimTiles: len(sims), MapTiles: len(tiles), Features: RealismFeatures,
		SimMean: make([]float64, len(RealismFeatures)), MapMean: make([]float64, len(RealismFeatures))}
	for i, r := range x {
		dst, n := res.SimMean, len(sims)
		if y[i] == 1 {
			dst, n = res.MapMean, len(tiles)
		}
		for j, v := range r {
			dst[j] += v / float64(n)
		}
	}
	if len(ref) > 0 {
		res.Percentile = 100 * float64(sort.SearchFloat64s(ref, math.Nextafter(auc, 2))) / float64(len(ref))
	}
	if err := os.MkdirAll(opt.Out, 0o777); err != nil {
		return nil, err
	}
	js, _ := json.MarshalIndent(res, "", "  ")
	return res, writeFile(filepath.Join(opt.Out, "realism.json"), append(js, '\n'))
}

// RealismMaxSims bounds the training simulations realism compares a map
// with (their 12 unflipped images each), and so its memory.
const RealismMaxSims = 48

// realismSims returns the unflipped training images (log10 Σ) of up to
// RealismMaxSims training simulations of the run's classes, spread evenly
// over the manifest.
func realismSims(cfg *Config, log *slog.Logger) ([]dataset.Image, error) {
	m, err := campaign.ReadFile(cfg.Manifest)
	if err != nil {
		return nil, err
	}
	classes := classesFor(cfg.Task)
	var rows []campaign.Row
	for _, r := range m.Rows {
		if r.Split == campaign.Train && slices.Contains(classes, r.Class) {
			rows = append(rows, r)
		}
	}
	if len(rows) > RealismMaxSims {
		picked := make([]campaign.Row, RealismMaxSims)
		for i := range picked {
			picked[i] = rows[i*len(rows)/RealismMaxSims]
		}
		rows = picked
	}
	sub := *m
	sub.Rows = rows
	set, err := dataset.Load(&sub, cfg.Snapshots, dataset.Options{Size: cfg.ImageSize, Splits: []string{campaign.Train}, Classes: classes, Cache: cfg.Cache, Warn: warner(log)})
	if err != nil {
		return nil, err
	}
	var sims []dataset.Image
	for _, im := range set.Images {
		if im.Label.Flip == 0 { // flips are mirror copies: the features are the same
			sims = append(sims, dataset.Image{Size: im.Size, Pix: slices.Clone(im.Pix), Label: im.Label})
		}
	}
	return sims, nil
}

// Text is the result for people.
func (r *RealismResult) Text() string {
	var b strings.Builder
	verdict := "no reference (fewer than 2 training simulations)"
	if n := len(r.SimAUCs); n > 0 {
		switch {
		case r.AUC > r.SimAUCs[n-1]:
			verdict = "the map is told from the simulations better than any simulation is told from the others: unlike the simulations, predictions on it are extrapolations"
		case r.Percentile > 90:
			verdict = "the map is at the edge of what a simulation looks like"
		default:
			verdict = "the map is no easier to tell from the simulations than a simulation is from the others"
		}
	}
	fmt.Fprintf(&b, "realism: cross-validated AUC %.3f (%d folds; %d simulation tiles, %d map tiles)\n", r.AUC, r.Folds, r.SimTiles, r.MapTiles)
	if n := len(r.SimAUCs); n > 0 {
		fmt.Fprintf(&b, "a training simulation told from the others the same way: AUC median %.3f, range [%.3f, %.3f] (%d simulations); the map is at percentile %.0f\n",
			quantile(r.SimAUCs, 0.5), r.SimAUCs[0], r.SimAUCs[n-1], n, r.Percentile)
	}
	fmt.Fprintf(&b, "verdict: %s\n", verdict)
	fmt.Fprintf(&b, "%-16s %12s %12s\n", "feature", "simulations", "map")
	for i, f := range r.Features {
		fmt.Fprintf(&b, "%-16s %12.4g %12.4g\n", f, r.SimMean[i], r.MapMean[i])
	}
	return b.String()
}

// cvAUC is the cross-validated AUC of the logistic classifier telling the
// tiles pos from the simulations ids' tiles: simulations go to folds in
// turn (every training fold keeps some), pos tiles in contiguous runs (so
// that no fold tests on a neighbour of what it trained on); the
// out-of-fold scores are pooled.
func cvAUC(bySim map[string][][]float64, ids []string, pos [][]float64, folds int) (float64, int, error) {
	if folds < 2 {
		folds = 5
	}
	folds = min(folds, len(pos), len(ids))
	if folds < 2 {
		return 0, 0, fmt.Errorf("%d simulations and %d map tiles: cross-validation needs at least 2 of each", len(ids), len(pos))
	}
	var x [][]float64
	var y, fold []int
	for k, id := range ids {
		for _, r := range bySim[id] {
			x, y, fold = append(x, r), append(y, 0), append(fold, k%folds)
		}
	}
	for i, r := range pos {
		x, y, fold = append(x, r), append(y, 1), append(fold, i*folds/len(pos))
	}
	scores := make([]float64, len(x))
	for f := range folds {
		var tx [][]float64
		var ty []int
		for i := range x {
			if fold[i] != f {
				tx, ty = append(tx, x[i]), append(ty, y[i])
			}
		}
		score := logistic(tx, ty)
		for i := range x {
			if fold[i] == f {
				scores[i] = score(x[i])
			}
		}
	}
	c, err := metrics.Classify(scores, y)
	return c.AUC, folds, err
}
