package study

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/turbindex/turbindex/analysis/logistic"
	"github.com/turbindex/turbindex/analysis/report"
	"github.com/turbindex/turbindex/analysis/svm"
	"github.com/turbindex/turbindex/train/experiment"
	"github.com/turbindex/turbindex/train/metrics"
	"github.com/turbindex/turbindex/train/plots"
)

// burgers is the positive label of the study's scores.
const burgers = 1

// classifier is a trained Kolmogorov-or-Burgers classifier.
type classifier struct {
	name string
	// score returns one score per image of d: ≥ 0 predicts Burgers.
	score func(d *data) ([]float64, error)
	// ref is the classifier's own estimate of its accuracy from the
	// training data (cross-validation, or the accuracy on the split used
	// to choose it), refName says which; NaN if it has none.
	ref     float64
	refName string
	// warning is set by the holdout stage when the classifier fails the
	// sanity check: it is then left out of every later figure and table.
	warning string
	// prob maps scores to P(Burgers) for the reliability diagram; nil
	// for a classifier whose scores are not probabilities, which are then
	// mapped by a logistic fit on the test split (Platt scaling).
	prob func(scores []float64) []float64
	// protocol says how a CNN's images were normalised ("" for others).
	protocol string
	// holdout are the classifier's holdout figures (set by the holdout stage).
	holdout holdoutFigures
}

// holdoutFigures are a classifier's figures on the holdout images.
type holdoutFigures struct {
	img   metrics.Classification
	check check
	// tuned is the accuracy at the threshold chosen on the test split
	// (NaN without test images); ece the expected calibration error.
	tuned, threshold, ece float64
}

// hogSVM trains the HOG + SVM classifier and the HOG + SVR regressor: C
// and γ chosen by cross-validation on a subsample of the training split
// (selectionSample), then one RBF fit on the whole split.
func (s *state) hogSVM() error {
	scaler := svm.FitScaler(s.clsTrain.hog)
	x := scaler.Apply(s.clsTrain.hog)
	y := s.clsTrain.labels()
	sub := selectionSample(s.clsTrain.lab, s.o.SVMSubsample, s.o.Seed)
	c, gamma, cv, err := s.gridSearch("HOG+SVM", pick(x, sub), f64(pick(y, sub)), false)
	if err != nil {
		return fmt.Errorf("grid search: %w", err)
	}
	s.r.Parameters["svm"] = fmt.Sprintf("RBF, C = %g, γ = %.3g (%d-fold CV accuracy %.3f on %d of the %d training vectors), fitted on all %d",
		c, gamma, s.o.Folds, cv, len(sub), len(x), len(x))
	svc, err := s.fitSVM("HOG+SVM", len(x), func(p svm.Params) (*svm.Model, error) { return svm.TrainSVC(x, y, p) },
		svm.Params{Kernel: svm.Kernel{Kind: "rbf", Gamma: gamma}, C: c, Tol: 1e-3})
	if err != nil {
		return err
	}
	s.classifiers = append(s.classifiers, classifier{name: "HOG+SVM", ref: cv,
		refName: fmt.Sprintf("%d-fold cross-validation accuracy on the training split", s.o.Folds),
		score: func(d *data) ([]float64, error) {
			return s.decisions("HOG+SVM decision values", scaler.Apply(d.hog), func(x [][]float64, progress func(int)) []float64 {
				return svc.DecisionsFor(burgers, x, 0, progress)
			}), nil
		}})
	s.log.Info("HOG+SVM trained", "C", c, "gamma", gamma, "cv", cv, "seconds", s.seconds())
	return s.hogSVR()
}

// cnn adds the CNN runs given in the options: "CNN" for one run, "CNN,
// <normalisation>" for several.
func (s *state) cnn() error {
	seen := map[string]bool{}
	for _, run := range s.o.CNN {
		cfg, err := experiment.ReadConfig(run)
		if err != nil {
			return err
		}
		if cfg.Task != experiment.Classify {
			return fmt.Errorf("run %s is a %s run, not %s", run, cfg.Task, experiment.Classify)
		}
		name := "CNN"
		if len(s.o.CNN) > 1 {
			name = "CNN, " + string(cfg.Normalise)
			if seen[name] {
				name = "CNN, " + filepath.Base(filepath.Clean(run))
			}
		}
		seen[name] = true
		c := s.cnnClassifier(name, run)
		c.protocol = cfg.Normalise.Describe()
		s.r.Parameters["cnn: "+name] = fmt.Sprintf("%s (%s, %d epochs)", run, c.protocol, cfg.Epochs)
		s.classifiers = append(s.classifiers, c)
	}
	if s.o.CNNRegress != "" {
		s.regressors = append(s.regressors, regressor{name: "CNN", predict: func(d *data) ([]float64, error) {
			q, err := d.predict(s.o.CNNRegress)
			return f64(q), err
		}})
	}
	return nil
}

// cnnClassifier is the best model of the classifier run in dir, named name;
// its own estimate is the test-split accuracy of its best epoch.
func (s *state) cnnClassifier(name, dir string) classifier {
	c := classifier{name: name, ref: math.NaN(), score: func(d *data) ([]float64, error) {
		p, err := d.predict(dir)
		if err != nil {
			return nil, err
		}
		out := make([]float64, len(p))
		for i, v := range p {
			out[i] = float64(v) - 0.5 // P(Burgers) − ½
		}
		return out, nil
	}, prob: func(score []float64) []float64 {
		out := make([]float64, len(score))
		for i, v := range score {
			out[i] = v + 0.5
		}
		return out
	}}
	if h, err := experiment.ReadHistory(dir); err == nil && len(h) > 0 {
		best := slices.MinFunc(h, func(a, b experiment.Epoch) int { return cmpFloat(a.ValLoss, b.ValLoss) })
		c.ref, c.refName = best.ValAcc, fmt.Sprintf("test-split accuracy of the best epoch (%d)", best.Epoch)
	}
	return c
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

// holdout scores every classifier on the holdout images: the table of
// accuracy, AUC and per-simulation accuracy, ROC curves and confusion
// matrices, after the sanity check of each classifier.
func (s *state) holdout() error {
	t := report.Table{Title: "Kolmogorov vs Burgers on the holdout", Columns: holdoutColumns}
	rocs, aucs := map[string][]metrics.ROCPoint{}, map[string]float64{}
	calib := map[string][]metrics.ReliabilityBin{}
	y, ids := s.clsHold.labels(), s.clsHold.ids()
	var figs []report.Figure
	for i := range s.classifiers {
		c := &s.classifiers[i]
		sc, err := c.score(s.clsHold)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		img, err := metrics.ClassifyAt(sc, y, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		check := sanity(sc, y, ids, c.ref)
		c.holdout = holdoutFigures{img: img, check: check, tuned: math.NaN(), threshold: math.NaN(), ece: math.NaN()}
		row := report.Row{Method: c.name, Values: map[string]float64{
			"accuracy": img.Accuracy, "auc": img.AUC, "per_sim_accuracy": check.perSimAccuracy, "images": float64(img.N)}}
		bins, err := s.tune(c, sc, y)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if !math.IsNaN(c.holdout.tuned) {
			row.Values["tuned_accuracy"], row.Values["tuned_threshold"] = c.holdout.tuned, c.holdout.threshold
		}
		if bins != nil {
			row.Values["ece"] = c.holdout.ece
		}
		if w := check.warning(img, c.ref, c.refName); w != "" {
			c.warning, row.Warning = w, w
			s.log.Warn("classifier fails the sanity check: not a result", "method", c.name, "why", w)
			t.Rows = append(t.Rows, row)
			continue
		}
		t.Rows = append(t.Rows, row)
		rocs[c.name], aucs[c.name] = metrics.ROC(sc, y), img.AUC
		if bins != nil {
			calib[c.name] = bins
		}
		file := "confusion_" + slug(c.name) + ".png"
		if err := plots.ConfusionMatrix(filepath.Join(s.o.Out, file), img.Confusion, [2]string{"Kolmogorov", "Burgers"}); err != nil {
			return err
		}
		figs = append(figs, report.Figure{File: file, Caption: "Holdout confusion matrix, " + c.name})
	}
	if len(rocs) > 0 {
		if err := plots.ROCCurves(filepath.Join(s.o.Out, "roc.png"), rocs, aucs); err != nil {
			return err
		}
		figs = append([]report.Figure{{File: "roc.png", Caption: "ROC curves on the holdout images"}}, figs...)
	}
	if len(calib) > 0 {
		if err := plots.Reliability(filepath.Join(s.o.Out, "reliability.png"), calib); err != nil {
			return err
		}
		figs = append(figs, report.Figure{File: "reliability.png", Caption: "Reliability of P(Burgers) on the holdout images: " +
			"the CNN's own probabilities; for the other classifiers, their scores mapped to probabilities by a logistic fit on the test split (Platt scaling). " +
			"A calibrated classifier follows the diagonal; ECE is the mean distance to it."})
	}
	s.r.Figures = append(s.r.Figures, figs...)
	s.r.Tables = append(s.r.Tables, t)
	s.r.Headline = append(s.r.Headline, s.headline()...)
	return nil
}

// headline compares the best one-number baseline, and the logistic
// regression on those numbers, with the CNN (or HOG+SVM without a CNN):
// whether they do as well, within twice the uncertainty of the difference
// of accuracies from the spread over simulations.
func (s *state) headline() []string {
	byName := map[string]classifier{}
	var ref classifier
	for _, c := range s.results() {
		byName[c.name] = c
		if c.protocol != "" && ref.name == "" {
			ref = c // the first CNN run
		}
	}
	if ref.name == "" {
		if ref = byName["HOG+SVM"]; ref.name == "" {
			return nil
		}
	}
	var best classifier
	for _, f := range oneNumber {
		if c, ok := byName[f.name]; ok && (best.name == "" || c.holdout.img.Accuracy > best.holdout.img.Accuracy) {
			best = c
		}
	}
	var out []string
	for i, c := range []classifier{best, byName[logisticName]} {
		if c.name == "" {
			continue
		}
		a, b := c.holdout, ref.holdout
		diff := b.img.Accuracy - a.img.Accuracy
		sigma := math.Hypot(a.check.accSigma, b.check.accSigma)
		what := "A single number per image, the " + c.name + ","
		if i == 1 {
			what = "A logistic regression on the four moments of the log-Σ PDF and the power-spectrum slope"
		}
		figs := fmt.Sprintf("holdout accuracy %.3f (per simulation %.3f) against %.3f (%.3f) for the %s",
			a.img.Accuracy, a.check.perSimAccuracy, b.img.Accuracy, b.check.perSimAccuracy, ref.name)
		switch {
		case math.IsNaN(sigma):
			out = append(out, fmt.Sprintf("%s gets %s (too few holdout simulations to say whether they differ).", what, figs))
		case diff <= 2*sigma:
			out = append(out, fmt.Sprintf("%s does as well as the %s: %s; the difference, %+.3f, is within 2σ = %.3f (σ from the spread over simulations).",
				what, ref.name, figs, diff, 2*sigma))
		default:
			out = append(out, fmt.Sprintf("The %s does better than %s: %s; the difference, %+.3f, exceeds 2σ = %.3f (σ from the spread over simulations).",
				ref.name, strings.ToLower(what[:1])+strings.TrimSuffix(what[1:], ","), figs, diff, 2*sigma))
		}
	}
	return out
}

// holdoutColumns are the columns of the holdout table, and of the
// protocols table.
var holdoutColumns = []string{"accuracy", "auc", "per_sim_accuracy", "tuned_accuracy", "tuned_threshold", "ece", "images"}

// tune sets c.holdout's tuned accuracy (at the threshold chosen for the
// best accuracy on the test split) and calibration error, given c's
// holdout scores sc and labels y, and returns the reliability bins (nil
// without test images for a classifier that needs them).
func (s *state) tune(c *classifier, sc []float64, y []int) ([]metrics.ReliabilityBin, error) {
	prob := c.prob
	if len(s.clsTest.lab) > 0 {
		ts, err := c.score(s.clsTest)
		if err != nil {
			return nil, err
		}
		ty := s.clsTest.labels()
		t, _, err := metrics.BestThreshold(ts, ty)
		if err != nil {
			return nil, fmt.Errorf("threshold on the test split: %w", err)
		}
		c.holdout.threshold, c.holdout.tuned = t, metrics.Confuse(sc, y, t).Accuracy()
		if prob == nil {
			x := make([][]float64, len(ts))
			for i, v := range ts {
				x[i] = []float64{v}
			}
			platt, err := logistic.Fit(x, ty, logistic.DefaultLambda)
			if err != nil {
				return nil, fmt.Errorf("Platt scaling on the test split: %w", err)
			}
			prob = func(scores []float64) []float64 {
				out := make([]float64, len(scores))
				for i, v := range scores {
					out[i] = platt.Prob([]float64{v})
				}
				return out
			}
		}
	}
	if prob == nil {
		return nil, nil
	}
	bins, err := metrics.Reliability(prob(sc), y, 10)
	if err != nil {
		return nil, err
	}
	c.holdout.ece = metrics.ECE(bins)
	return bins, nil
}

// protocols compares the CNN runs side by side when there are several:
// the same network trained on differently normalised images.
func (s *state) protocols() error {
	var rows []report.Row
	for _, c := range s.classifiers {
		if c.protocol == "" {
			continue
		}
		h := c.holdout
		row := report.Row{Method: c.protocol, Values: map[string]float64{"accuracy": h.img.Accuracy, "auc": h.img.AUC,
			"per_sim_accuracy": h.check.perSimAccuracy, "images": float64(h.img.N)}, Warning: c.warning}
		if !math.IsNaN(h.tuned) {
			row.Values["tuned_accuracy"], row.Values["tuned_threshold"] = h.tuned, h.threshold
		}
		if !math.IsNaN(h.ece) {
			row.Values["ece"] = h.ece
		}
		rows = append(rows, row)
	}
	if len(rows) > 1 {
		s.r.Tables = append(s.r.Tables, report.Table{Title: "CNN protocols: the same network on differently normalised images, same splits",
			Columns: holdoutColumns, Rows: rows})
	}
	return nil
}

// results are the classifiers that passed the sanity check.
func (s *state) results() []classifier {
	var out []classifier
	for _, c := range s.classifiers {
		if c.warning == "" {
			out = append(out, c)
		}
	}
	return out
}

// accuracies returns the accuracy on d of every classifier that passed the
// sanity check, by name.
func (s *state) accuracies(d *data) (map[string]float64, error) {
	y := d.labels()
	out := map[string]float64{}
	for _, c := range s.results() {
		sc, err := c.score(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		out[c.name] = metrics.Confuse(sc, y, 0).Accuracy()
	}
	return out, nil
}

// The sanity check: a holdout AUC below aucSigmas standard deviations
// under ½, or a holdout accuracy further than max(accGap, accSigmas·σ)
// below the classifier's own estimate, says the scores are inverted or the
// model broken rather than anything about the physics.
const (
	aucSigmas = 3
	accSigmas = 3
	accGap    = 0.1
)

// check holds what the sanity check measures on the holdout scores.
type check struct {
	sims           int     // simulations
	perSimAccuracy float64 // fraction of simulations whose mean score has the right sign
	aucSigma       float64 // jackknife standard deviation of the AUC over simulations; NaN if unknown
	accSigma       float64 // standard error of the image accuracy from its spread over simulations; NaN if unknown
}

// sanity measures the per-simulation figures of scores (≥ 0 predicts
// label 1) against labels, where ids name each image's simulation. The
// images of one simulation are not independent, so the uncertainties come
// from the spread over simulations: σ of the AUC is its leave-one-
// simulation-out jackknife estimate, σ of the accuracy the standard error
// of the simulations' accuracies.
func sanity(scores []float64, labels []int, ids []string, ref float64) check {
	keys, means := metrics.GroupMean(scores, ids)
	_, lab := metrics.GroupMean(f64(labels), ids)
	c := check{sims: len(keys), aucSigma: math.NaN(), accSigma: math.NaN()}
	right := 0
	for i := range keys {
		if (means[i] >= 0) == (lab[i] == 1) {
			right++
		}
	}
	c.perSimAccuracy = float64(right) / float64(len(keys))
	// Per-simulation image accuracy, and the AUC without each simulation.
	sim := map[string]int{}
	for i, k := range keys {
		sim[k] = i
	}
	correct, count := make([]float64, len(keys)), make([]float64, len(keys))
	for i, sc := range scores {
		k := sim[ids[i]]
		count[k]++
		if (sc >= 0) == (labels[i] == 1) {
			correct[k]++
		}
	}
	acc := make([]float64, len(keys))
	for k := range keys {
		acc[k] = correct[k] / count[k]
	}
	if len(keys) > 1 {
		c.accSigma = stddev(acc) / math.Sqrt(float64(len(keys)))
	}
	var jack []float64
	for _, key := range keys {
		var s []float64
		var l []int
		for i, id := range ids {
			if id != key {
				s, l = append(s, scores[i]), append(l, labels[i])
			}
		}
		if a, err := metrics.AUCErr(s, l); err == nil {
			jack = append(jack, a)
		}
	}
	if n := float64(len(jack)); n >= 3 {
		c.aucSigma = stddev(jack) * math.Sqrt((n-1)*(n-1)/n)
	}
	return c
}

// warning returns why a classifier with holdout figures img fails the
// sanity check, or "" if it passes.
func (c check) warning(img metrics.Classification, ref float64, refName string) string {
	var why []string
	if !math.IsNaN(c.aucSigma) && img.AUC < 0.5-aucSigmas*c.aucSigma {
		why = append(why, fmt.Sprintf("holdout AUC %.3f is below chance: 0.5 − %d×%.3f (σ from %d simulations)",
			img.AUC, aucSigmas, c.aucSigma, c.sims))
	}
	if !math.IsNaN(ref) && !math.IsNaN(c.accSigma) {
		if tol := math.Max(accGap, accSigmas*c.accSigma); ref-img.Accuracy > tol {
			why = append(why, fmt.Sprintf("holdout accuracy %.3f is %.3f below the %s, %.3f (tolerance %.3f)",
				img.Accuracy, ref-img.Accuracy, refName, ref, tol))
		}
	}
	if len(why) == 0 {
		return ""
	}
	msg := why[0]
	for _, w := range why[1:] {
		msg += "; " + w
	}
	return msg + fmt.Sprintf(" (holdout accuracy %.3f, AUC %.3f, per-simulation accuracy %.3f): inverted scores or a broken model",
		img.Accuracy, img.AUC, c.perSimAccuracy)
}

// stddev is the sample standard deviation (n − 1).
func stddev(x []float64) float64 {
	if len(x) < 2 {
		return math.NaN()
	}
	var m float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	return math.Sqrt(ss / float64(len(x)-1))
}

// predict returns the best model of the run in dir applied to d's images,
// read from the stream and transformed as d says.
func (d *data) predict(dir string) ([]float32, error) {
	prep, failed := d.transform()
	p, err := experiment.PredictStream(dir, d.src, d.img, prep)
	if err == nil {
		err = failed()
	}
	return p, err
}
