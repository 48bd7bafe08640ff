// Package study runs the analysis of a campaign: the hand-made baselines
// (HOG + SVM for the class, HOG + SVR for n), the physicist's baseline (the
// slope of the column-density power spectrum), the CNN runs if given, t-SNE
// maps, the zoom-invariance test, and the report that compares them.
package study

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/turbindex/turbindex/analysis/hog"
	"github.com/turbindex/turbindex/analysis/report"
	"github.com/turbindex/turbindex/analysis/spectrum"
	"github.com/turbindex/turbindex/analysis/svm"
	"github.com/turbindex/turbindex/analysis/tsne"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/buildinfo"
	"github.com/turbindex/turbindex/internal/progress"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/experiment"
	"github.com/turbindex/turbindex/train/metrics"
	"github.com/turbindex/turbindex/train/plots"
)

// Options configure a study.
type Options struct {
	Manifest, Snapshots string
	Out                 string    // report directory
	CNN, CNNRegress     string    // run directories of `train fit` (optional)
	ImageSize           int       // pixels; 0 = N/2
	Cache               string    // image cache directory (optional)
	Folds               int       // cross-validation folds for C and γ
	Cs, GammaScales     []float64 // grid of C, and of γ in units of 1/(number of features)
	TSNEPoints          int       // at most this many points per t-SNE map
	Zooms               []float64 // zoom factors of the invariance test
	Seed                uint64
	Log                 *slog.Logger
	Progress            io.Writer // terminal for a progress bar over the study's stages (optional)
}

// stages are the steps of Run, for progress reports.
var stages = []string{"images", "features", "classifiers", "regression", "t-SNE", "zoom", "report"}

// Defaults returns the study's default settings.
func Defaults() Options {
	return Options{Folds: 3, Cs: []float64{1, 10}, GammaScales: []float64{0.3, 1, 3},
		TSNEPoints: 4800, Zooms: []float64{0.5, 0.75, 1, 1.5, 2}, Seed: 1}
}

// data are the images of the study, raw (log10 Σ), and their features.
type data struct {
	images []dataset.Image
	hog    [][]float64
	slope  []float64
}

func (d *data) where(pred func(dataset.Label) bool) *data {
	out := &data{}
	for i, im := range d.images {
		if pred(im.Label) {
			out.images = append(out.images, im)
			out.hog = append(out.hog, d.hog[i])
			out.slope = append(out.slope, d.slope[i])
		}
	}
	return out
}

func (d *data) labels() []int {
	y := make([]int, len(d.images))
	for i, im := range d.images {
		if im.Label.Class == campaign.Burgers {
			y[i] = 1
		}
	}
	return y
}

func (d *data) index() []float64 {
	y := make([]float64, len(d.images))
	for i, im := range d.images {
		y[i] = im.Label.Index
	}
	return y
}

func (d *data) ids() []string {
	s := make([]string, len(d.images))
	for i, im := range d.images {
		s[i] = im.Label.ID
	}
	return s
}

// Run performs the study and writes the report into o.Out.
func Run(o Options) (*report.Report, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := campaign.ReadFile(o.Manifest)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	prog := progress.New(o.Progress, log, "analysis", float64(len(stages)), 0)
	stage := 0
	done := func() {
		stage++
		prog.Update(float64(stage), slog.String("done", stages[stage-1]), slog.Float64("seconds", time.Since(t0).Seconds()))
	}
	set, err := dataset.Load(m, o.Snapshots, dataset.Options{Size: o.ImageSize, Cache: o.Cache,
		Warn: func(msg string) { log.Warn(msg) }})
	if err != nil {
		return nil, err
	}
	size := set.Size
	all := &data{images: set.Images}
	log.Info("images loaded", "images", len(all.images), "size", size)
	done()

	if all.hog, err = hogOf(all.images, size); err != nil {
		return nil, err
	}
	if all.slope, err = slopes(all.images, size); err != nil {
		return nil, err
	}
	log.Info("features", "hog_dims", len(all.hog[0]))
	done()

	isClass := func(l dataset.Label) bool { return l.Class != campaign.Sweep }
	clsTrain := all.where(func(l dataset.Label) bool { return isClass(l) && l.Split == campaign.Train })
	clsHold := all.where(func(l dataset.Label) bool { return isClass(l) && l.Split == campaign.Holdout })
	swTrain := all.where(func(l dataset.Label) bool { return !isClass(l) && l.Split == campaign.Train })
	swHold := all.where(func(l dataset.Label) bool { return !isClass(l) && l.Split == campaign.Holdout })
	if len(clsTrain.images) == 0 || len(clsHold.images) == 0 {
		return nil, fmt.Errorf("%s: the classification needs Kolmogorov and Burgers simulations in train and holdout", o.Manifest)
	}

	r := &report.Report{Title: "turbindex: can the spectral index be read off column-density maps?",
		CodeVersion: buildinfo.Version(), Created: time.Now().UTC().Format(time.RFC3339),
		Parameters: map[string]string{
			"manifest": o.Manifest, "snapshots": o.Snapshots, "image_size": strconv.Itoa(size),
			"grid": strconv.Itoa(m.Params.Grid), "tend_myr": fmt.Sprint(m.Params.TEndMyr),
			"images": strconv.Itoa(len(all.images)), "cv_folds": strconv.Itoa(o.Folds),
			"hog": "8 orientations, 12×12 cells, 1 cell per block, L2-Hys",
		}}
	cls := report.Table{Title: "Kolmogorov vs Burgers on the holdout", Columns: []string{"accuracy", "auc", "per_sim_accuracy", "images"}}
	rocs, aucs := map[string][]metrics.ROCPoint{}, map[string]float64{}
	scorers := map[string]func(*data) ([]float64, error){} // for the zoom test

	// HOG + SVM.
	scaler := svm.FitScaler(clsTrain.hog)
	xTrain := scaler.Apply(clsTrain.hog)
	yTrain := clsTrain.labels()
	gammas := scaled(o.GammaScales, len(xTrain[0]))
	yf := make([]float64, len(yTrain))
	for i, v := range yTrain {
		yf[i] = float64(v)
	}
	c, gamma, cv, err := svm.GridSearch(xTrain, yf, o.Folds, o.Cs, gammas, false, o.Seed)
	if err != nil {
		return nil, fmt.Errorf("HOG+SVM grid search: %w", err)
	}
	r.Parameters["svm"] = fmt.Sprintf("RBF, C = %g, γ = %.3g (CV accuracy %.3f on train)", c, gamma, cv)
	svc, err := svm.TrainSVC(xTrain, yTrain, svm.Params{Kernel: svm.Kernel{Kind: "rbf", Gamma: gamma}, C: c, Tol: 1e-3, CacheMB: 200, Shrinking: true})
	if err != nil {
		return nil, fmt.Errorf("HOG+SVM: %w", err)
	}
	scorers["HOG+SVM"] = func(d *data) ([]float64, error) {
		x := scaler.Apply(d.hog)
		s := make([]float64, len(x))
		for i := range x {
			s[i] = svc.Decision(x[i])
		}
		return s, nil
	}
	log.Info("HOG+SVM trained", "C", c, "gamma", gamma, "cv", cv, "seconds", time.Since(t0).Seconds())

	// Power-spectrum slope: one feature, threshold chosen on train.
	thr, sign := spectrum.Threshold(clsTrain.slope, yTrain)
	r.Parameters["slope_threshold"] = fmt.Sprintf("%.4g (Burgers when %+d·(slope − threshold) ≥ 0)", thr, sign)
	scorers["power-spectrum slope"] = func(d *data) ([]float64, error) {
		s := make([]float64, len(d.slope))
		for i, v := range d.slope {
			s[i] = float64(sign) * (v - thr)
		}
		return s, nil
	}
	if o.CNN != "" {
		scorers["CNN"] = func(d *data) ([]float64, error) {
			p, err := experiment.PredictImages(o.CNN, d.images)
			if err != nil {
				return nil, err
			}
			s := make([]float64, len(p))
			for i, v := range p {
				s[i] = float64(v) - 0.5
			}
			return s, nil
		}
	}
	yHold := clsHold.labels()
	for _, name := range sortedKeys(scorers) {
		s, err := scorers[name](clsHold)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		img, err := metrics.ClassifyAt(s, yHold, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		keys, means := metrics.GroupMean(s, clsHold.ids())
		_, lab := metrics.GroupMean(f64(yHold), clsHold.ids())
		right := 0
		for i := range keys {
			if (means[i] >= 0) == (lab[i] == 1) {
				right++
			}
		}
		cls.Rows = append(cls.Rows, report.Row{Method: name, Values: map[string]float64{
			"accuracy": img.Accuracy, "auc": img.AUC, "per_sim_accuracy": float64(right) / float64(len(keys)), "images": float64(img.N)}})
		rocs[name], aucs[name] = metrics.ROC(s, yHold), img.AUC
		file := "confusion_" + slug(name) + ".png"
		if err := plots.ConfusionMatrix(filepath.Join(o.Out, file), img.Confusion, [2]string{"Kolmogorov", "Burgers"}); err != nil {
			return nil, err
		}
		r.Figures = append(r.Figures, report.Figure{File: file, Caption: "Holdout confusion matrix, " + name})
	}
	if err := plots.ROCCurves(filepath.Join(o.Out, "roc.png"), rocs, aucs); err != nil {
		return nil, err
	}
	r.Figures = append([]report.Figure{{File: "roc.png", Caption: "ROC curves on the holdout images"}}, r.Figures...)
	r.Tables = append(r.Tables, cls)
	done()

	// Regression of n on the sweep.
	if len(swTrain.images) > 0 && len(swHold.images) > 0 {
		reg, figs, err := regression(o, swTrain, swHold, gammas, log)
		if err != nil {
			return nil, err
		}
		r.Tables = append(r.Tables, reg)
		r.Figures = append(r.Figures, figs...)
	} else {
		r.Notes = append(r.Notes, "No sweep simulations in train and holdout: no regression of n.")
	}
	done()

	// t-SNE of the HOG features of the holdout and sweep images.
	pts := all.where(func(l dataset.Label) bool { return l.Split == campaign.Holdout || l.Class == campaign.Sweep })
	if fig, err := tsneFigure(o, pts, "tsne_hog.png"); err != nil {
		r.Notes = append(r.Notes, "t-SNE of HOG features: "+err.Error())
	} else {
		r.Figures = append(r.Figures, fig)
	}

	// t-SNE of the CNN's penultimate layer (train embed writes it).
	if o.CNN != "" {
		if fig, err := tsneCSV(o, filepath.Join(o.CNN, "embeddings.csv"), "tsne_cnn.png"); err != nil {
			r.Notes = append(r.Notes, "t-SNE of CNN embeddings: "+err.Error()+" (run `train embed --run "+o.CNN+"` first)")
		} else {
			r.Figures = append(r.Figures, fig)
		}
	}

	done()

	// Zoom invariance.
	zoom := map[string][]float64{}
	for _, f := range o.Zooms {
		z, err := zoomed(clsHold, f, size)
		if err != nil {
			return nil, err
		}
		for _, name := range sortedKeys(scorers) {
			s, err := scorers[name](z)
			if err != nil {
				return nil, err
			}
			cm := metrics.Confuse(s, yHold, 0)
			zoom[name] = append(zoom[name], cm.Accuracy())
		}
	}
	if err := plots.Lines(filepath.Join(o.Out, "zoom.png"), o.Zooms, zoom, "zoom factor", "holdout accuracy", "Zoom invariance"); err != nil {
		return nil, err
	}
	r.Figures = append(r.Figures, report.Figure{File: "zoom.png", Caption: "Accuracy on holdout images zoomed by 0.5–2 (crop and magnify, or shrink and tile periodically); the classifiers were trained at zoom 1"})
	zt := report.Table{Title: "Zoom invariance: holdout accuracy", Columns: zoomColumns(o.Zooms)}
	for _, name := range sortedKeys(zoom) {
		v := map[string]float64{}
		for i, f := range o.Zooms {
			v[zoomColumns([]float64{f})[0]] = zoom[name][i]
		}
		zt.Rows = append(zt.Rows, report.Row{Method: name, Values: v})
	}
	r.Tables = append(r.Tables, zt)
	done()
	if err := report.Write(o.Out, *r); err != nil {
		return nil, err
	}
	prog.Finish(slog.Float64("seconds", time.Since(t0).Seconds()))
	return r, nil
}

func zoomColumns(z []float64) []string {
	out := make([]string, len(z))
	for i, f := range z {
		out[i] = "×" + strconv.FormatFloat(f, 'g', -1, 64)
	}
	return out
}

// regression fits HOG+SVR and the slope's linear model on the sweep's
// train split and scores them, and the CNN regressor if given, on its
// holdout.
func regression(o Options, train, hold *data, gammas []float64, log *slog.Logger) (report.Table, []report.Figure, error) {
	t := report.Table{Title: "Spectral index n of the sweep holdout", Columns: []string{"mse", "r2", "images"}}
	var figs []report.Figure
	preds := map[string][]float64{}
	scaler := svm.FitScaler(train.hog)
	x := scaler.Apply(train.hog)
	c, gamma, _, err := svm.GridSearch(x, train.index(), o.Folds, o.Cs, gammas, true, o.Seed)
	if err != nil {
		return t, nil, fmt.Errorf("HOG+SVR grid search: %w", err)
	}
	svr, err := svm.TrainSVR(x, train.index(), svm.Params{Kernel: svm.Kernel{Kind: "rbf", Gamma: gamma}, C: c, Epsilon: 0.05, Tol: 1e-3, CacheMB: 200, Shrinking: true})
	if err != nil {
		return t, nil, fmt.Errorf("HOG+SVR: %w", err)
	}
	xh := scaler.Apply(hold.hog)
	p := make([]float64, len(xh))
	for i := range xh {
		p[i] = svr.Predict(xh[i])
	}
	preds["HOG+SVR"] = p
	a, b := spectrum.LinearFit(train.slope, train.index())
	p = make([]float64, len(hold.slope))
	for i, s := range hold.slope {
		p[i] = a*s + b
	}
	preds["power-spectrum slope"] = p
	if o.CNNRegress != "" {
		q, err := experiment.PredictImages(o.CNNRegress, hold.images)
		if err != nil {
			return t, nil, err
		}
		preds["CNN"] = f64(q)
	}
	truth := hold.index()
	distinct := map[float64]bool{}
	for _, n := range truth {
		distinct[n] = true
	}
	for _, name := range sortedKeys(preds) {
		vals := map[string]float64{"mse": metrics.MSE(preds[name], truth), "images": float64(len(truth))}
		title := fmt.Sprintf("%s: MSE %.3g", name, vals["mse"])
		// R² compares with the spread of the true n: it needs at least two
		// simulations with different n in the holdout.
		if len(distinct) > 1 {
			m, err := metrics.Regress(preds[name], truth)
			if err != nil {
				return t, nil, fmt.Errorf("%s: %w", name, err)
			}
			vals["r2"] = m.R2
			title += fmt.Sprintf(", R² %.3f", m.R2)
		}
		t.Rows = append(t.Rows, report.Row{Method: name, Values: vals})
		file := "regress_" + slug(name) + ".png"
		if err := plots.Scatter(filepath.Join(o.Out, file), truth, preds[name], "true n", "predicted n", title, true); err != nil {
			return t, nil, err
		}
		figs = append(figs, report.Figure{File: file, Caption: "Predicted against true n on the sweep holdout, " + name})
	}
	return t, figs, nil
}

func tsneFigure(o Options, d *data, file string) (report.Figure, error) {
	if len(d.hog) < 8 {
		return report.Figure{}, fmt.Errorf("only %d points", len(d.hog))
	}
	x, n := d.hog, d.index()
	if len(x) > o.TSNEPoints {
		step := float64(len(x)) / float64(o.TSNEPoints)
		var xs [][]float64
		var ns []float64
		for i := 0; i < o.TSNEPoints; i++ {
			j := int(float64(i) * step)
			xs, ns = append(xs, x[j]), append(ns, n[j])
		}
		x, n = xs, ns
	}
	perp := math.Min(30, float64(len(x)-1)/3)
	emb, err := tsne.Embed(x, tsne.Options{Perplexity: perp, Iterations: 1000, Theta: 0.5, Seed: o.Seed, PCA: 50})
	if err != nil {
		return report.Figure{}, err
	}
	ex, ey := make([]float64, len(emb)), make([]float64, len(emb))
	for i, p := range emb {
		ex[i], ey[i] = p[0], p[1]
	}
	title := "t-SNE of HOG features"
	if strings.Contains(file, "cnn") {
		title = "t-SNE of CNN embeddings"
	}
	if err := plots.ScatterByValue(filepath.Join(o.Out, file), ex, ey, n, "n", title); err != nil {
		return report.Figure{}, err
	}
	return report.Figure{File: file, Caption: fmt.Sprintf("t-SNE of the HOG features of %d holdout and sweep images, coloured by n", len(x))}, nil
}

// tsneCSV maps the embeddings.csv of `train embed` (id, class, split, index,
// projection, flip, quadrant, then the activations) with t-SNE.
func tsneCSV(o Options, path, file string) (report.Figure, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return report.Figure{}, err
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	d := &data{}
	for i, line := range lines[1:] {
		f := strings.Split(line, ",")
		if len(f) < 8 {
			return report.Figure{}, fmt.Errorf("%s:%d: %d fields", path, i+2, len(f))
		}
		n, err := strconv.ParseFloat(f[3], 64)
		if err != nil {
			return report.Figure{}, fmt.Errorf("%s:%d: index %q", path, i+2, f[3])
		}
		v := make([]float64, len(f)-7)
		for j, s := range f[7:] {
			if v[j], err = strconv.ParseFloat(s, 64); err != nil {
				return report.Figure{}, fmt.Errorf("%s:%d: %q", path, i+2, s)
			}
		}
		d.images = append(d.images, dataset.Image{Label: dataset.Label{Index: n}})
		d.hog = append(d.hog, v)
	}
	fig, err := tsneFigure(o, d, file)
	fig.Caption = strings.Replace(fig.Caption, "HOG features", "CNN embeddings (penultimate layer)", 1)
	return fig, err
}

func zoomed(d *data, factor float64, size int) (*data, error) {
	out := &data{images: make([]dataset.Image, len(d.images))}
	for i, im := range d.images {
		pix, err := dataset.Zoom(im.Pix, size, factor)
		if err != nil {
			return nil, err
		}
		out.images[i] = dataset.Image{Size: size, Pix: pix, Label: im.Label}
	}
	var err error
	if out.hog, err = hogOf(out.images, size); err != nil {
		return nil, err
	}
	out.slope, err = slopes(out.images, size)
	return out, err
}

func hogOf(images []dataset.Image, size int) ([][]float64, error) {
	pix := make([][]float32, len(images))
	for i, im := range images {
		pix[i] = im.Pix
	}
	return hog.FeaturesBatch(pix, size, size, hog.DefaultOptions(size), runtime.GOMAXPROCS(0))
}

func slopes(images []dataset.Image, size int) ([]float64, error) {
	out := make([]float64, len(images))
	for i, im := range images {
		s, err := spectrum.Slope(im.Pix, size, spectrum.Options{Window: "hann"})
		if err != nil {
			return nil, fmt.Errorf("power spectrum of %s: %w", im.Label.ID, err)
		}
		out[i] = s
	}
	return out, nil
}

func scaled(scales []float64, dims int) []float64 {
	out := make([]float64, len(scales))
	for i, s := range scales {
		out[i] = s / float64(dims)
	}
	return out
}

// f64 converts numbers to float64.
func f64[T int | float32](v []T) []float64 {
	out := make([]float64, len(v))
	for i, a := range v {
		out[i] = float64(a)
	}
	return out
}

func slug(s string) string {
	b := []byte{}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b = append(b, c)
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			if len(b) > 0 && b[len(b)-1] != '_' {
				b = append(b, '_')
			}
		}
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
