package experiment

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/metrics"
	"github.com/turbindex/turbindex/train/plots"
	"github.com/turbindex/turbindex/train/skymap"
)

// MaxMapValues bounds the pixels of a map predict reads or resamples to
// (8 bytes each: 2 GiB).
const MaxMapValues = 1 << 28

// PredictOptions say how to read a map and where to write.
type PredictOptions struct {
	// Map says how to read the FITS file.
	Map skymap.Options
	// MaxHoles is the largest fraction of holes (NaN, blank, Σ ≤ 0) a tile
	// may have; its holes are filled with its mean log Σ.
	MaxHoles float64
	// Out is the output directory.
	Out string
	// Autoencoder, if not empty, is an autoencoder run (train fit --task
	// autoencode) on the same images: each tile's reconstruction error is
	// placed among those of its holdout.
	Autoencoder string
	// Log receives warnings (may be nil).
	Log *slog.Logger
}

// TilePrediction is one row of predictions.csv.
type TilePrediction struct {
	Tile     int     `json:"tile"`
	Row, Col int     // top-left pixel in the resampled map
	XPc, YPc float64 // tile centre, pc from the map's first pixel corner
	Holes    float64 // fraction of filled holes
	Value    float64 // P(Burgers) (classify) or n (regress)
	// ReconError and ReconPercentile are the autoencoder's reconstruction
	// error and its percentile among the holdout's (NaN without one).
	ReconError, ReconPercentile float64
}

// ClassSpread is the spread of the per-simulation mean prediction of the
// holdout simulations of one class.
type ClassSpread struct {
	Simulations int     `json:"simulations"`
	Mean        float64 `json:"mean"`
	Std         float64 `json:"std"`
}

// HoldoutSpread is the honest error bar of a run: how much its prediction
// varies between simulations of the holdout, from eval's
// predictions-holdout.csv.
type HoldoutSpread struct {
	Simulations int                    `json:"simulations"`
	PerClass    map[string]ClassSpread `json:"per_class,omitempty"` // classify: P(Burgers) per simulation, by class
	RMSE        float64                `json:"rmse,omitempty"`      // regress: RMS error of the per-simulation mean n
}

// PredictSummary is summary.json of predict.
type PredictSummary struct {
	Run         string         `json:"run"`
	Map         string         `json:"map"`
	HDU         int            `json:"hdu"`
	Task        string         `json:"task"`
	Quantity    string         `json:"quantity"` // "P(Burgers)" or "n"
	Unit        string         `json:"unit"`
	UnitFrom    string         `json:"unit_from"`
	MapPixelPc  [2]float64     `json:"map_pixel_pc"`
	ScaleFrom   string         `json:"scale_from"`
	RunPixelPc  float64        `json:"run_pixel_pc"`
	TileSize    int            `json:"tile_size"`
	Rows        int            `json:"rows"` // of the resampled map
	Cols        int            `json:"cols"`
	Tiles       int            `json:"tiles"`
	Skipped     int            `json:"skipped_tiles"` // more than MaxHoles holes
	NonPositive int            `json:"non_positive_pixels"`
	Mean        float64        `json:"mean"`
	Median      float64        `json:"median"`
	Std         float64        `json:"std"` // over tiles
	Min         float64        `json:"min"`
	Max         float64        `json:"max"`
	Holdout     *HoldoutSpread `json:"holdout,omitempty"`
	Autoencoder *TileRealism   `json:"autoencoder,omitempty"`
	Warnings    []string       `json:"warnings,omitempty"`
}

// RunPixelPc returns the pixel size, in pc, of the images the run in dir
// was trained on: config.json's pixel_pc, or for older runs the campaign's
// box edge over twice the image size (an image is a quadrant of a map).
func RunPixelPc(dir string) (float64, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return 0, err
	}
	return cfg.pixelPc()
}

func (cfg *Config) pixelPc() (float64, error) {
	if cfg.PixelPc > 0 {
		return cfg.PixelPc, nil
	}
	m, err := campaign.ReadFile(cfg.Manifest)
	if err != nil {
		return 0, fmt.Errorf("the run's pixel size: %w", err)
	}
	if cfg.ImageSize < 1 {
		return 0, fmt.Errorf("the run's config.json has image size %d", cfg.ImageSize)
	}
	return m.Params.BoxPc / float64(2*cfg.ImageSize), nil
}

// Predict applies the best model of the run in dir to the column-density
// map in the FITS file mapPath: it reads the map, resamples it to the
// run's pixel size, cuts it into tiles of the run's image size, applies
// the run's normalisation and predicts each tile. It writes, in opt.Out,
// predictions.csv (one row per tile), summary.json, summary.txt and
// map.png (the map with each tile's prediction).
func Predict(dir, mapPath string, opt PredictOptions) (*PredictSummary, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	runPc, err := cfg.pixelPc()
	if err != nil {
		return nil, err
	}
	if !(opt.MaxHoles >= 0 && opt.MaxHoles <= 1) {
		return nil, fmt.Errorf("--max-holes %g: want a fraction in [0, 1]", opt.MaxHoles)
	}
	opt.Map.MaxValues = MaxMapValues
	m, err := skymap.Read(mapPath, opt.Map)
	if err != nil {
		return nil, err
	}
	s := &PredictSummary{Run: dir, Map: mapPath, HDU: m.HDU, Task: cfg.Task, Quantity: "P(Burgers)", Unit: m.Unit, UnitFrom: m.Source,
		MapPixelPc: m.PixelPc, ScaleFrom: m.ScaleFrom, RunPixelPc: runPc, TileSize: cfg.ImageSize, NonPositive: m.NonPositive}
	if cfg.Task == Regress {
		s.Quantity = "n"
	}
	if f := math.Max(m.PixelPc[0], m.PixelPc[1]) / runPc; f > 1+1e-6 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("the map's pixels (%.4g pc) are %.3g× the training pixels (%.4g pc): it is interpolated, smoother than any training image", math.Max(m.PixelPc[0], m.PixelPc[1]), f, runPc))
	}
	if m.NonPositive > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d pixels with Σ ≤ 0 were treated as holes", m.NonPositive))
	}
	rm, err := skymap.Resample(m, runPc, MaxMapValues)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mapPath, err)
	}
	s.Rows, s.Cols = rm.Rows, rm.Cols
	tiles, skipped, err := skymap.Tiles(rm, cfg.ImageSize, opt.MaxHoles)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (the run %s reads %d² tiles of %.4g pc pixels)", mapPath, err, dir, cfg.ImageSize, runPc)
	}
	s.Tiles, s.Skipped = len(tiles), skipped
	images := make([]dataset.Image, len(tiles))
	for i, t := range tiles {
		images[i] = dataset.Image{Size: cfg.ImageSize, Pix: t.Pix}
	}
	pred, err := PredictImages(dir, images)
	if err != nil {
		return nil, err
	}
	if opt.Autoencoder != "" {
		if s.Autoencoder, err = autoencoderCheck(opt.Autoencoder, images, runPc); err != nil {
			return nil, err
		}
		if a := s.Autoencoder; a.BeyondP99 > 0.5 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("%.0f%% of the tiles reconstruct worse than 99%% of the holdout images: the map is unlike the simulations, and the predictions are extrapolations", 100*a.BeyondP99))
		}
	}
	rows := make([]TilePrediction, len(tiles))
	vals := make([]float64, len(tiles))
	half := float64(cfg.ImageSize) / 2
	for i, t := range tiles {
		rows[i] = TilePrediction{Tile: i, Row: t.Row, Col: t.Col, Holes: t.Holes, Value: float64(pred[i]),
			XPc: (float64(t.Col) + half) * rm.PixelPc[0], YPc: (float64(t.Row) + half) * rm.PixelPc[1],
			ReconError: math.NaN(), ReconPercentile: math.NaN()}
		if a := s.Autoencoder; a != nil {
			rows[i].ReconError, rows[i].ReconPercentile = a.Errors[i], a.Percent[i]
		}
		vals[i] = float64(pred[i])
	}
	s.Mean, s.Std = meanStd(vals)
	s.Median = median(vals)
	s.Min, s.Max = slices.Min(vals), slices.Max(vals)
	if s.Holdout, err = ReadHoldoutSpread(dir, cfg.Task); errors.Is(err, fs.ErrNotExist) {
		s.Warnings = append(s.Warnings, "no holdout error bar: run `train eval --run "+dir+"` first")
	} else if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opt.Out, 0o777); err != nil {
		return nil, err
	}
	if err := writePredictions(opt.Out, s.Quantity, rows, s.Autoencoder != nil); err != nil {
		return nil, err
	}
	js, _ := json.MarshalIndent(s, "", "  ")
	if err := writeFile(filepath.Join(opt.Out, "summary.json"), append(js, '\n')); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(opt.Out, "summary.txt"), []byte(s.Text())); err != nil {
		return nil, err
	}
	if err := mapFigure(filepath.Join(opt.Out, "map.png"), rm, rows, cfg.ImageSize, s); err != nil {
		return nil, err
	}
	if opt.Log != nil {
		for _, w := range s.Warnings {
			opt.Log.Warn(w)
		}
	}
	return s, nil
}

// Text is the summary for people.
func (s *PredictSummary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "map %s (HDU %d): %s from %s; pixels %.4g × %.4g pc from %s\n", s.Map, s.HDU, s.Unit, s.UnitFrom, s.MapPixelPc[0], s.MapPixelPc[1], s.ScaleFrom)
	fmt.Fprintf(&b, "run %s (%s): %d² tiles of %.4g pc pixels; the map resampled to %d × %d pixels\n", s.Run, s.Task, s.TileSize, s.RunPixelPc, s.Rows, s.Cols)
	fmt.Fprintf(&b, "tiles: %d predicted, %d skipped for holes\n", s.Tiles, s.Skipped)
	fmt.Fprintf(&b, "%s over tiles: mean %.4g, median %.4g, sd %.3g, range [%.4g, %.4g]\n", s.Quantity, s.Mean, s.Median, s.Std, s.Min, s.Max)
	if h := s.Holdout; h != nil {
		if s.Task == Regress {
			fmt.Fprintf(&b, "honest error bar: ±%.3g in n (RMS error of the per-simulation mean over %d holdout simulations)\n", h.RMSE, h.Simulations)
		} else {
			for _, c := range slices.Sorted(mapsKeys(h.PerClass)) {
				cs := h.PerClass[c]
				spread := fmt.Sprintf("± %.3g (sd)", cs.Std)
				if cs.Simulations < 2 {
					spread = "(one simulation: no spread to measure)"
				}
				fmt.Fprintf(&b, "holdout %s simulations (%d): per-simulation P(Burgers) %.3g %s\n", c, cs.Simulations, cs.Mean, spread)
			}
		}
	}
	if a := s.Autoencoder; a != nil {
		fmt.Fprintf(&b, "autoencoder %s: tiles' reconstruction errors at percentiles: median %.1f; %.0f%% beyond the holdout's 99th (%.3g)\n",
			a.Run, a.Median, 100*a.BeyondP99, a.HoldP99)
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return b.String()
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func meanStd(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func writePredictions(dir, quantity string, rows []TilePrediction, recon bool) error {
	var b bytes.Buffer
	col := "p_burgers"
	if quantity == "n" {
		col = "n"
	}
	fmt.Fprintf(&b, "tile,row,col,x_pc,y_pc,holes,%s", col)
	if recon {
		b.WriteString(",recon_error,recon_percentile")
	}
	b.WriteByte('\n')
	for _, r := range rows {
		fmt.Fprintf(&b, "%d,%d,%d,%.6g,%.6g,%.4g,%s", r.Tile, r.Row, r.Col, r.XPc, r.YPc, r.Holes, strconv.FormatFloat(r.Value, 'g', -1, 32))
		if recon {
			fmt.Fprintf(&b, ",%.6g,%.4g", r.ReconError, r.ReconPercentile)
		}
		b.WriteByte('\n')
	}
	return writeFile(filepath.Join(dir, "predictions.csv"), b.Bytes())
}

// mapFigure draws map.png: log Σ of the resampled map with each tile's
// prediction.
func mapFigure(path string, m *skymap.Map, rows []TilePrediction, size int, s *PredictSummary) error {
	pix := make([]float32, len(m.Sigma))
	for i, v := range m.Sigma {
		pix[i] = float32(math.Log10(v)) // NaN stays NaN
	}
	tiles := make([]plots.MapTile, len(rows))
	for i, r := range rows {
		tiles[i] = plots.MapTile{Row: r.Row, Col: r.Col, Size: size, Label: strconv.FormatFloat(r.Value, 'f', 2, 64),
			Flag: s.Autoencoder != nil && r.ReconError > s.Autoencoder.HoldP99}
	}
	title := fmt.Sprintf("%s: %s per %.3g pc tile, mean %.3g", filepath.Base(s.Map), s.Quantity, float64(size)*s.RunPixelPc, s.Mean)
	return plots.MapTiles(path, pix, m.Rows, m.Cols, tiles, title)
}

// evalPredictionsFile is the per-image output of Eval on a split.
func evalPredictionsFile(split string) string { return "predictions-" + split + ".csv" }

const evalPredictionsHeader = "id,class,index,projection,flip,quadrant,prediction"

// writeEvalPredictions writes every image's prediction of Eval on split:
// the record predict's holdout error bar is computed from.
func writeEvalPredictions(dir, split string, images []dataset.Image, pred []float32) error {
	var b bytes.Buffer
	b.WriteString(evalPredictionsHeader + "\n")
	for i, im := range images {
		l := im.Label
		fmt.Fprintf(&b, "%s,%s,%s,%d,%d,%d,%s\n", l.ID, l.Class, strconv.FormatFloat(l.Index, 'g', -1, 64),
			l.Projection, l.Flip, l.Quadrant, strconv.FormatFloat(float64(pred[i]), 'g', -1, 32))
	}
	return writeFile(filepath.Join(dir, evalPredictionsFile(split)), b.Bytes())
}

// EvalPrediction is one row of eval's predictions-<split>.csv.
type EvalPrediction struct {
	Label      dataset.Label
	Prediction float32
}

// ReadEvalPredictions reads the per-image predictions Eval wrote for split
// in the run directory dir.
func ReadEvalPredictions(dir, split string) ([]EvalPrediction, error) {
	path := filepath.Join(dir, evalPredictionsFile(split))
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != evalPredictionsHeader {
		return nil, fmt.Errorf("%s: header is not %q", path, evalPredictionsHeader)
	}
	out := make([]EvalPrediction, 0, len(recs)-1)
	for i, r := range recs[1:] {
		var p EvalPrediction
		var errs []error
		var err error
		p.Label.ID, p.Label.Class, p.Label.Split = r[0], r[1], split
		p.Label.Index, err = strconv.ParseFloat(r[2], 64)
		errs = append(errs, err)
		for j, dst := range []*int{&p.Label.Projection, &p.Label.Flip, &p.Label.Quadrant} {
			*dst, err = strconv.Atoi(r[3+j])
			errs = append(errs, err)
		}
		v, err := strconv.ParseFloat(r[6], 32)
		errs = append(errs, err)
		p.Prediction = float32(v)
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+2, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// ReadHoldoutSpread computes the per-simulation spread of the holdout
// predictions of the run in dir (task classify or regress) from eval's
// predictions-holdout.csv; the error wraps fs.ErrNotExist if eval has not
// run.
func ReadHoldoutSpread(dir, task string) (*HoldoutSpread, error) {
	ps, err := ReadEvalPredictions(dir, campaign.Holdout)
	if err != nil {
		return nil, err
	}
	vals := make([]float64, len(ps))
	ids := make([]string, len(ps))
	class := map[string]string{}
	index := map[string]float64{}
	for i, p := range ps {
		vals[i], ids[i] = float64(p.Prediction), p.Label.ID
		class[p.Label.ID], index[p.Label.ID] = p.Label.Class, p.Label.Index
	}
	keys, means := metrics.GroupMean(vals, ids)
	h := &HoldoutSpread{Simulations: len(keys)}
	if task == Regress {
		var se float64
		for i, k := range keys {
			se += (means[i] - index[k]) * (means[i] - index[k])
		}
		h.RMSE = math.Sqrt(se / float64(len(keys)))
		return h, nil
	}
	by := map[string][]float64{}
	for i, k := range keys {
		by[class[k]] = append(by[class[k]], means[i])
	}
	h.PerClass = map[string]ClassSpread{}
	for c, v := range by {
		m, sd := meanStd(v)
		h.PerClass[c] = ClassSpread{Simulations: len(v), Mean: m, Std: sd}
	}
	return h, nil
}
