package study

import (
	"fmt"
	"math"
	"path/filepath"

	"github.com/turbindex/turbindex/analysis/logistic"
	"github.com/turbindex/turbindex/analysis/moments"
	"github.com/turbindex/turbindex/analysis/spectrum"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/metrics"
	"github.com/turbindex/turbindex/train/plots"
)

// feature is one number per image.
type feature struct {
	name string
	of   func(d *data) []float64
}

// moment returns the feature "moment k of the log-Σ PDF" (as in
// moments.Names).
func moment(k int, name string) feature {
	return feature{name, func(d *data) []float64 {
		out := make([]float64, len(d.moments))
		for i, m := range d.moments {
			out[i] = m.Vector()[k]
		}
		return out
	}}
}

var (
	slopeFeature = feature{"power-spectrum slope", func(d *data) []float64 { return d.slope }}
	// oneNumber are the dumb baselines: one number per image.
	oneNumber = []feature{moment(1, "std of log Σ"), moment(2, "skewness of log Σ"), moment(3, "excess kurtosis of log Σ")}
)

// slope makes the physicist's baselines from the power-spectrum slope:
// a threshold for the class and a straight line for n, both chosen on the
// training split.
func (s *state) slope() error { return s.oneFeature(slopeFeature) }

// oneFeature adds the classifier that thresholds f (threshold and side
// chosen for the best accuracy on the training split) and the regressor
// n = a·f + b (least squares on the sweep's training split).
func (s *state) oneFeature(f feature) error {
	y := s.clsTrain.labels()
	thr, sign := spectrum.Threshold(f.of(s.clsTrain), y)
	if sign == 0 {
		return fmt.Errorf("%s: no threshold for %d training images", f.name, len(y))
	}
	s.r.Parameters["threshold: "+f.name] = fmt.Sprintf("%.4g (Burgers when %+d·(value − threshold) ≥ 0)", thr, sign)
	score := func(d *data) ([]float64, error) {
		v := f.of(d)
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(sign) * (x - thr)
		}
		return out, nil
	}
	train, _ := score(s.clsTrain)
	s.classifiers = append(s.classifiers, classifier{name: f.name, score: score,
		ref: metrics.Confuse(train, y, 0).Accuracy(), refName: "accuracy on the training split"})
	if len(s.swTrain.images) > 0 {
		a, b := spectrum.LinearFit(f.of(s.swTrain), s.swTrain.index())
		s.regressors = append(s.regressors, regressor{name: f.name, predict: func(d *data) ([]float64, error) {
			v := f.of(d)
			p := make([]float64, len(v))
			for i, x := range v {
				p[i] = a*x + b
			}
			return p, nil
		}})
	}
	return nil
}

// logisticName is the name of the logistic-regression baseline.
const logisticName = "logistic: 4 moments + slope"

// baselines adds the dumb baselines — a threshold on one moment of the
// log-Σ PDF, and a logistic regression on the four moments and the
// power-spectrum slope — and the histograms of the moments by class.
func (s *state) baselines() error {
	for _, f := range oneNumber {
		if err := s.oneFeature(f); err != nil {
			return err
		}
	}
	five := func(d *data) [][]float64 {
		x := make([][]float64, len(d.images))
		for i, m := range d.moments {
			v := m.Vector()
			x[i] = append(v[:], d.slope[i])
		}
		return x
	}
	y := s.clsTrain.labels()
	lr, err := logistic.Fit(five(s.clsTrain), y, logistic.DefaultLambda)
	if err != nil {
		return err
	}
	score := func(d *data) ([]float64, error) {
		x := five(d)
		out := make([]float64, len(x))
		for i := range x {
			out[i] = lr.Score(x[i])
		}
		return out, nil
	}
	train, _ := score(s.clsTrain)
	s.classifiers = append(s.classifiers, classifier{name: logisticName, score: score,
		ref: metrics.Confuse(train, y, 0).Accuracy(), refName: "accuracy on the training split",
		prob: func(scores []float64) []float64 {
			out := make([]float64, len(scores))
			for i, v := range scores {
				out[i] = 1 / (1 + math.Exp(-v)) // scores are log-odds
			}
			return out
		}})
	s.r.Parameters["logistic"] = fmt.Sprintf("L2 penalty λ = %g on standardised features (%v, slope): weights %.3g, intercept %.3g, %d Newton steps",
		lr.Lambda, moments.Names, lr.Weights, lr.Bias, lr.Iterations)

	// Histograms of each moment on the holdout, by class.
	for _, f := range oneNumber {
		v, series := f.of(s.clsHold), map[string][]float64{}
		for i, im := range s.clsHold.images {
			series[im.Label.Class] = append(series[im.Label.Class], v[i])
		}
		file := "hist_" + slug(f.name) + ".png"
		if err := plots.Histogram(filepath.Join(s.o.Out, file), series, 30, f.name, f.name+" on the holdout"); err != nil {
			return err
		}
		s.figure(file, fmt.Sprintf("Distribution of the %s of the holdout images, %s and %s: a threshold on it, chosen on the training split, is a baseline classifier (%s)",
			f.name, campaign.Kolmogorov, campaign.Burgers, s.r.Parameters["threshold: "+f.name]))
	}
	return nil
}
