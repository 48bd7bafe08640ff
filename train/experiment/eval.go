package experiment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/resources"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/metrics"
	"github.com/turbindex/turbindex/train/plots"
)

// Options are the connections of eval, saliency and embed to the outside
// world.
type Options struct {
	Log *slog.Logger
	// Limits, if not nil, is the memory budget: the command refuses with a
	// *resources.TooBigError, before it reads anything, work whose estimate
	// exceeds it.
	Limits *resources.Limits
}

// check refuses the work of a command on the run cfg over the given split
// and classes, keeping perImage bytes per image, if its estimate exceeds
// the budget.
func (o Options) check(cfg Config, what, split string, classes []string, perImage float64) error {
	if o.Limits == nil {
		return nil
	}
	m, size, err := manifestSide(cfg)
	if err != nil {
		return err
	}
	need := inferMemory(cfg, size, sims(m, split, classes), perImage)
	return fits(o.Limits, fmt.Sprintf("%s on %d² images", what, size), need,
		"run where more memory is given (--memory overrides the detected budget)")
}

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
// and .png, roc.csv and .png and the sweep figure (sweep.csv and .png:
// P(Burgers) of every sweep image against its n); for regress, the
// predicted-against-true scatter (regress.csv and .png).
func Eval(dir, split string, opt Options) (*Metrics, error) {
	log := opt.Log
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	if err := opt.check(cfg, "train eval", split, append(classesFor(cfg.Task), campaign.Sweep), perImageBytes); err != nil {
		return nil, err
	}
	model, err := loadModel(filepath.Join(dir, "best.cnn"))
	if err != nil {
		return nil, err
	}
	images, err := openSplit(dir, &cfg, split, classesFor(cfg.Task), log)
	if err != nil {
		return nil, err
	}
	var pred, y []float32
	ids := make([]string, 0, images.Len())
	labels := make([]dataset.Label, 0, images.Len())
	err = predict(model, cfg.Task, images, all(images.Len()), cfg.loader(), func(idx []int, _, p, t []float32) error {
		pred, y = append(pred, p...), append(y, t...)
		for _, i := range idx {
			l := images.Label(i)
			ids, labels = append(ids, l.ID), append(labels, l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := writeEvalPredictions(dir, split, labels, pred); err != nil {
		return nil, err
	}
	out := &Metrics{Task: cfg.Task, Split: split, Model: "best.cnn"}
	if cfg.Task == Regress {
		err = evalRegression(dir, out, pred, y, ids)
	} else {
		err = evalClassification(dir, out, pred, y, ids)
		if err == nil {
			err = tune(dir, &cfg, model, out, images, split, pred, y, log)
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
func tune(dir string, cfg *Config, model *cnn.Model, out *Metrics, images *dataset.Stream, split string, pred, y []float32, log *slog.Logger) error {
	test, tp, ty := images, pred, y
	if split != campaign.Test {
		var err error
		if test, err = openSplit(dir, cfg, campaign.Test, classesFor(cfg.Task), log); err != nil {
			return err
		}
		tp, ty = nil, nil
		err = predict(model, Classify, test, all(test.Len()), cfg.loader(), func(_ []int, _, p, t []float32) error {
			tp, ty = append(tp, p...), append(ty, t...)
			return nil
		})
		if err != nil {
			return err
		}
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
	set, err := openSplit(dir, &cfg, "", []string{campaign.Sweep}, log)
	if err != nil {
		if log != nil {
			log.Warn("no sweep figure", "reason", err)
		}
		return nil
	}
	var n, pred []float64
	var ids []string
	var b bytes.Buffer
	b.WriteString("id,n,p_burgers\n")
	err = predict(model, Classify, set, all(set.Len()), cfg.loader(), func(idx []int, _, p, _ []float32) error {
		for j, i := range idx {
			l := set.Label(i)
			n, ids, pred = append(n, l.Index), append(ids, l.ID), append(pred, float64(p[j]))
			fmt.Fprintf(&b, "%s,%.6g,%.6g\n", l.ID, l.Index, p[j])
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "sweep.csv"), b.Bytes()); err != nil {
		return err
	}
	keys, pm := metrics.GroupMean(pred, ids)
	_, nm := metrics.GroupMean(n, ids)
	out.SweepSim = len(keys)
	return plots.SweepPlot(filepath.Join(dir, "sweep.png"), n, pred, nm, pm)
}

// Saliency writes saliency.png: count holdout images (alternating classes
// for classify) next to |∂output/∂pixel| of the best model.
func Saliency(dir string, count int, opt Options) error {
	log := opt.Log
	cfg, err := ReadConfig(dir)
	if err != nil {
		return err
	}
	if count < 1 || count > 1024 {
		return fmt.Errorf("saliency of %d images: want 1 to 1024", count)
	}
	// The picked images and their saliency maps are kept: 8 bytes a pixel.
	if err := opt.check(cfg, "train saliency", campaign.Holdout, classesFor(cfg.Task),
		float64(count)*8*float64(cfg.ImageSize)*float64(cfg.ImageSize)/dataset.PerSnapshot); err != nil {
		return err
	}
	model, err := loadModel(filepath.Join(dir, "best.cnn"))
	if err != nil {
		return err
	}
	hold, err := openSplit(dir, &cfg, campaign.Holdout, classesFor(cfg.Task), log)
	if err != nil {
		return err
	}
	ld := cfg.loader()
	var images []dataset.Image
	var sal []float32
	err = hold.Batches(pick(hold, count), model.Config().Batch, ld, func(idx []int, x []float32) error {
		s, err := model.Saliency(x)
		if err != nil {
			return err
		}
		sal = append(sal, s...)
		px := cfg.ImageSize * cfg.ImageSize
		for j, i := range idx {
			images = append(images, dataset.Image{Size: cfg.ImageSize, Pix: slices.Clone(x[j*px : (j+1)*px]), Label: hold.Label(i)})
		}
		return nil
	})
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

// pick returns count images of s spread over the simulations (the first
// image of each: projection x, no flip, top-left), alternating between the
// classes present.
func pick(s *dataset.Stream, count int) []int {
	byClass := map[string][]int{}
	var classes []string
	for i := 0; i < s.Len(); i += dataset.PerSnapshot {
		c := s.Label(i).Class
		if _, ok := byClass[c]; !ok {
			classes = append(classes, c)
		}
		byClass[c] = append(byClass[c], i)
	}
	slices.Sort(classes)
	var out []int
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
func Embed(dir string, opt Options) error {
	log := opt.Log
	cfg, err := ReadConfig(dir)
	if err != nil {
		return err
	}
	if err := opt.check(cfg, "train embed", campaign.Holdout, campaign.Classes, perEmbedBytes); err != nil {
		return err
	}
	model, err := loadModel(filepath.Join(dir, "best.cnn"))
	if err != nil {
		return err
	}
	set, err := openSplit(dir, &cfg, campaign.Holdout, nil, log)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	err = set.Batches(all(set.Len()), model.Config().Batch, cfg.loader(), func(idx []int, x []float32) error {
		emb, err := model.Embed(x)
		if err != nil {
			return err
		}
		if b.Len() == 0 {
			b.WriteString("id,class,split,index,projection,flip,quadrant")
			for j := range emb[0] {
				fmt.Fprintf(&b, ",e%d", j)
			}
			b.WriteByte('\n')
		}
		for j, i := range idx {
			l := set.Label(i)
			fmt.Fprintf(&b, "%s,%s,%s,%.6g,%d,%d,%d", l.ID, l.Class, l.Split, l.Index, l.Projection, l.Flip, l.Quadrant)
			for _, v := range emb[j] {
				fmt.Fprintf(&b, ",%.6g", v)
			}
			b.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		return err
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

// PredictStream returns the best model of the run in dir applied to the
// images idx of s (log10 Σ pixels, transformed in place by transform, with
// the image's index, when it is not nil), standardised as the run was trained; the images are read
// a window at a time.
func PredictStream(dir string, s *dataset.Stream, idx []int, transform func(i int, pix []float32)) ([]float32, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	if s.Size != cfg.ImageSize {
		return nil, fmt.Errorf("run %s was trained on %d² images, got %d²", dir, cfg.ImageSize, s.Size)
	}
	model, err := loadModel(filepath.Join(dir, "best.cnn"))
	if err != nil {
		return nil, err
	}
	ld := cfg.loader()
	if transform != nil {
		standardise := ld.Prepare
		ld.Prepare = func(i int, pix []float32) {
			transform(i, pix)
			standardise(i, pix)
		}
	}
	out := make([]float32, 0, len(idx))
	err = s.Batches(idx, model.Config().Batch, ld, func(_ []int, x []float32) error {
		p, err := model.Predict(x)
		out = append(out, p...)
		return err
	})
	return out, err
}
