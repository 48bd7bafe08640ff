package experiment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/metrics"
	"github.com/turbindex/turbindex/train/plots"
)

// Metrics is metrics.json: image-level and per-simulation figures (the
// mean of a simulation's 48 predictions).
type Metrics struct {
	Task     string                  `json:"task"`
	Split    string                  `json:"split"`
	Model    string                  `json:"model"`
	Images   *metrics.Classification `json:"images,omitempty"`
	PerSim   *metrics.Classification `json:"per_simulation,omitempty"`
	RegImg   *metrics.Regression     `json:"regression_images,omitempty"`
	RegSim   *metrics.Regression     `json:"regression_per_simulation,omitempty"`
	SweepSim int                     `json:"sweep_simulations,omitempty"`
	// Tuned are the image-level figures at the threshold chosen for the
	// best accuracy on the test split (metrics.BestThreshold) rather than
	// at 0.5: a large gain says the probabilities are shifted.
	Tuned *metrics.Classification `json:"images_tuned_threshold,omitempty"`
	// ECE is the expected calibration error of P(Burgers) on the split
	// (reliability.png shows the diagram).
	ECE float64 `json:"ece,omitempty"`
}

// reliabilityBins is the number of bins of the reliability diagrams.
const reliabilityBins = 10

// Eval evaluates the best model of the run in dir on split (holdout for the
// final figures) and writes metrics.json and, for classify, confusion.csv
// and .png, roc.csv and .png, the reliability diagram (reliability.png),
// the figures at the threshold chosen on the test split, and the sweep
// figure (sweep.csv and .png: P(Burgers) of every sweep image against its
// n); for regress, the predicted-against-true scatter (regress.csv and
// .png).
func Eval(dir, split string, log *slog.Logger) (*Metrics, error) {
	cfg, model, err := loadRun(dir)
	if err != nil {
		return nil, err
	}
	splits := []string{split}
	if cfg.Task == Classify && split != campaign.Test {
		splits = append(splits, campaign.Test) // to choose the threshold on
	}
	data, err := loadSplits(&cfg, splits, log)
	if err != nil {
		return nil, err
	}
	images := data[split]
	pred, _, y, err := predict(model, cfg.Task, images)
	if err != nil {
		return nil, err
	}
	if err := writeEvalPredictions(dir, split, images, pred); err != nil {
		return nil, err
	}
	out := &Metrics{Task: cfg.Task, Split: split, Model: "best.cnn"}
	ids := make([]string, len(images))
	for i, im := range images {
		ids[i] = im.Label.ID
	}
	if cfg.Task == Regress {
		err = evalRegression(dir, out, pred, y, ids)
	} else {
		err = evalClassification(dir, out, pred, y, ids)
		if err == nil {
			err = tune(model, out, data[campaign.Test], pred, y)
		}
		if err == nil {
			err = reliability(dir, out, pred, y)
		}
		if err == nil {
			err = sweep(dir, cfg, model, log, out)
		}
	}
	if err != nil {
		return nil, err
	}
	js, _ := json.MarshalIndent(out, "", "  ")
	return out, writeFile(filepath.Join(dir, "metrics.json"), append(js, '\n'))
}

// tune sets out.Tuned: the split's figures (predictions pred, targets y)
// at the threshold that gets the best accuracy on the test images.
func tune(model *cnn.Model, out *Metrics, test []dataset.Image, pred, y []float32) error {
	tp, _, ty, err := predict(model, Classify, test)
	if err != nil {
		return err
	}
	t, _, err := metrics.BestThreshold(f64(tp), ints(ty))
	if err != nil {
		return fmt.Errorf("threshold on the test split: %w", err)
	}
	c, err := metrics.ClassifyAt(f64(pred), ints(y), t)
	if err != nil {
		return err
	}
	out.Tuned = &c
	return nil
}

// reliability sets out.ECE and writes reliability.png.
func reliability(dir string, out *Metrics, pred, y []float32) error {
	bins, err := metrics.Reliability(f64(pred), ints(y), reliabilityBins)
	if err != nil {
		return err
	}
	out.ECE = metrics.ECE(bins)
	return plots.Reliability(filepath.Join(dir, "reliability.png"), map[string][]metrics.ReliabilityBin{"CNN": bins})
}

// ints converts 0/1 targets to labels.
func ints(y []float32) []int {
	out := make([]int, len(y))
	for i, v := range y {
		out[i] = int(v)
	}
	return out
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func evalClassification(dir string, out *Metrics, pred, y []float32, ids []string) error {
	scores, labels := f64(pred), ints(y)
	img, err := metrics.Classify(scores, labels)
	if err != nil {
		return fmt.Errorf("image-level metrics: %w", err)
	}
	out.Images = &img
	keys, means := metrics.GroupMean(scores, ids)
	_, simLabels := metrics.GroupMean(f64(y), ids)
	sl := make([]int, len(simLabels))
	for i, v := range simLabels {
		sl[i] = int(v)
	}
	sim, err := metrics.Classify(means, sl)
	if err != nil {
		return fmt.Errorf("per-simulation metrics (%d simulations): %w", len(keys), err)
	}
	out.PerSim = &sim
	c := img.Confusion
	var b bytes.Buffer
	fmt.Fprintf(&b, "true,predicted_kolmogorov,predicted_burgers\nkolmogorov,%d,%d\nburgers,%d,%d\n", c.TN, c.FP, c.FN, c.TP)
	if err := writeFile(filepath.Join(dir, "confusion.csv"), b.Bytes()); err != nil {
		return err
	}
	if err := plots.ConfusionMatrix(filepath.Join(dir, "confusion.png"), c, [2]string{"Kolmogorov", "Burgers"}); err != nil {
		return err
	}
	roc := metrics.ROC(scores, labels)
	b.Reset()
	b.WriteString("fpr,tpr,threshold\n")
	for _, p := range roc {
		fmt.Fprintf(&b, "%.6g,%.6g,%.6g\n", p.FPR, p.TPR, p.Threshold)
	}
	if err := writeFile(filepath.Join(dir, "roc.csv"), b.Bytes()); err != nil {
		return err
	}
	return plots.ROCCurves(filepath.Join(dir, "roc.png"),
		map[string][]metrics.ROCPoint{"CNN (images)": roc}, map[string]float64{"CNN (images)": img.AUC})
}

func evalRegression(dir string, out *Metrics, pred, y []float32, ids []string) error {
	p, t := f64(pred), f64(y)
	img, err := metrics.Regress(p, t)
	if err != nil {
		return fmt.Errorf("regression metrics of %d images: %w (the split needs simulations with at least two values of n)", len(p), err)
	}
	out.RegImg = &img
	_, pm := metrics.GroupMean(p, ids)
	_, tm := metrics.GroupMean(t, ids)
	if sim, err := metrics.Regress(pm, tm); err == nil {
		out.RegSim = &sim
	}
	var b bytes.Buffer
	b.WriteString("id,true_n,predicted_n\n")
	for i := range p {
		fmt.Fprintf(&b, "%s,%.6g,%.6g\n", ids[i], t[i], p[i])
	}
	if err := writeFile(filepath.Join(dir, "regress.csv"), b.Bytes()); err != nil {
		return err
	}
	return plots.Scatter(filepath.Join(dir, "regress.png"), t, p, "true n", "predicted n",
		fmt.Sprintf("CNN regression: MSE %.3g, R² %.3f", img.MSE, img.R2), true)
}

// sweep predicts P(Burgers) for every sweep simulation (the classifier never
// saw them) and writes sweep.csv and sweep.png: the talk's "testing on
// different indices".
func sweep(dir string, cfg Config, model *cnn.Model, log *slog.Logger, out *Metrics) error {
	m, err := campaign.ReadFile(cfg.Manifest)
	if err != nil {
		return err
	}
	sc := cfg
	set, err := dataset.Load(m, cfg.Snapshots, dataset.Options{Size: cfg.ImageSize, Classes: []string{campaign.Sweep}, Cache: cfg.Cache})
	if err != nil {
		if log != nil {
			log.Warn("no sweep figure", "reason", err)
		}
		return nil
	}
	for _, im := range set.Images {
		sc.standardise(im.Pix)
	}
	pred, _, _, err := predict(model, Classify, set.Images)
	if err != nil {
		return err
	}
	n := make([]float64, len(pred))
	ids := make([]string, len(pred))
	var b bytes.Buffer
	b.WriteString("id,n,p_burgers\n")
	for i, im := range set.Images {
		n[i], ids[i] = im.Label.Index, im.Label.ID
		fmt.Fprintf(&b, "%s,%.6g,%.6g\n", ids[i], n[i], pred[i])
	}
	if err := writeFile(filepath.Join(dir, "sweep.csv"), b.Bytes()); err != nil {
		return err
	}
	keys, pm := metrics.GroupMean(f64(pred), ids)
	_, nm := metrics.GroupMean(n, ids)
	out.SweepSim = len(keys)
	return plots.SweepPlot(filepath.Join(dir, "sweep.png"), n, f64(pred), nm, pm)
}

// Saliency writes saliency.png: count holdout images (alternating classes
// for classify) next to |∂output/∂pixel| of the best model.
func Saliency(dir string, count int, log *slog.Logger) error {
	cfg, model, err := loadRun(dir)
	if err != nil {
		return err
	}
	data, err := loadSplits(&cfg, []string{campaign.Holdout}, log)
	if err != nil {
		return err
	}
	images := pick(data[campaign.Holdout], count)
	idx := make([]int, len(images))
	for i := range idx {
		idx[i] = i
	}
	x, _ := batchOf(cfg.Task, images, idx, nil, nil)
	sal, err := model.Saliency(x)
	if err != nil {
		return err
	}
	s2 := cfg.ImageSize * cfg.ImageSize
	var grid [][]float32
	var titles []string
	for i, im := range images {
		grid = append(grid, im.Pix, sal[i*s2:(i+1)*s2])
		titles = append(titles, fmt.Sprintf("%s %s", im.Label.ID, dataset.Projections[im.Label.Projection]), "saliency")
	}
	return plots.ImageGrid(filepath.Join(dir, "saliency.png"), grid, cfg.ImageSize, titles, 4)
}

// pick returns count images spread over the simulations, alternating
// between the classes present.
func pick(images []dataset.Image, count int) []dataset.Image {
	byClass := map[string][]dataset.Image{}
	var classes []string
	for _, im := range images {
		if _, ok := byClass[im.Label.Class]; !ok {
			classes = append(classes, im.Label.Class)
		}
		// One image per simulation: the first (projection x, no flip, top-left).
		if im.Label.Flip == 0 && im.Label.Quadrant == 0 && im.Label.Projection == 0 {
			byClass[im.Label.Class] = append(byClass[im.Label.Class], im)
		}
	}
	slices.Sort(classes)
	var out []dataset.Image
	for i := 0; len(out) < count; i++ {
		added := false
		for _, c := range classes {
			if i < len(byClass[c]) && len(out) < count {
				out = append(out, byClass[c][i])
				added = true
			}
		}
		if !added {
			break
		}
	}
	return out
}

// Embed writes embeddings.csv: the penultimate-layer activations of the
// best model for every holdout image of the task's classes and every sweep
// image, with their labels, for the analysis binary's t-SNE.
func Embed(dir string, log *slog.Logger) error {
	cfg, model, err := loadRun(dir)
	if err != nil {
		return err
	}
	m, err := campaign.ReadFile(cfg.Manifest)
	if err != nil {
		return err
	}
	set, err := dataset.Load(m, cfg.Snapshots, dataset.Options{Size: cfg.ImageSize, Splits: []string{campaign.Holdout}, Cache: cfg.Cache})
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for i, im := range set.Images {
		cfg.standardise(im.Pix)
		emb, err := model.Embed(im.Pix)
		if err != nil {
			return err
		}
		if i == 0 {
			b.WriteString("id,class,split,index,projection,flip,quadrant")
			for j := range emb[0] {
				fmt.Fprintf(&b, ",e%d", j)
			}
			b.WriteByte('\n')
		}
		l := im.Label
		fmt.Fprintf(&b, "%s,%s,%s,%.6g,%d,%d,%d", l.ID, l.Class, l.Split, l.Index, l.Projection, l.Flip, l.Quadrant)
		for _, v := range emb[0] {
			fmt.Fprintf(&b, ",%.6g", v)
		}
		b.WriteByte('\n')
	}
	return writeFile(filepath.Join(dir, "embeddings.csv"), b.Bytes())
}

// PredictImages returns the best model of the run in dir applied to copies
// of images (log10 Σ pixels), standardised as the run was trained.
func PredictImages(dir string, images []dataset.Image) ([]float32, error) {
	cfg, model, err := loadRun(dir)
	if err != nil {
		return nil, err
	}
	x := make([]float32, 0, len(images)*cfg.ImageSize*cfg.ImageSize)
	for _, im := range images {
		if im.Size != cfg.ImageSize {
			return nil, fmt.Errorf("run %s was trained on %d² images, got %d²", dir, cfg.ImageSize, im.Size)
		}
		start := len(x)
		x = append(x, im.Pix...)
		cfg.standardise(x[start:])
	}
	return model.Predict(x)
}

// Task returns the task of the run in dir.
func Task(dir string) (string, error) {
	cfg, err := ReadConfig(dir)
	return cfg.Task, err
}
