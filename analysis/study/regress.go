package study

import (
	"fmt"
	"path/filepath"

	"github.com/turbindex/turbindex/analysis/report"
	"github.com/turbindex/turbindex/analysis/svm"
	"github.com/turbindex/turbindex/train/metrics"
	"github.com/turbindex/turbindex/train/plots"
	"gonum.org/v1/gonum/stat"
)

// regressor is a trained estimator of the spectral index n.
type regressor struct {
	name    string
	predict func(d *data) ([]float64, error)
}

// hogSVR trains HOG + SVR on the sweep's training split, C and γ chosen
// by cross-validation.
func (s *state) hogSVR() error {
	if len(s.swTrain.lab) == 0 {
		return nil
	}
	scaler := svm.FitScaler(s.swTrain.hog)
	x := scaler.Apply(s.swTrain.hog)
	n := s.swTrain.index()
	sub := selectionSample(s.swTrain.lab, s.o.SVMSubsample, s.o.Seed)
	c, gamma, mse, err := s.gridSearch("HOG+SVR", pick(x, sub), pick(n, sub), true)
	if err != nil {
		return fmt.Errorf("HOG+SVR grid search: %w", err)
	}
	s.r.Parameters["svr"] = fmt.Sprintf("RBF, C = %g, γ = %.3g, ε = 0.05 (%d-fold CV MSE %.3g on %d of the %d training vectors), fitted on all %d",
		c, gamma, s.o.Folds, mse, len(sub), len(x), len(x))
	svr, err := s.fitSVM("HOG+SVR", len(x), func(p svm.Params) (*svm.Model, error) { return svm.TrainSVR(x, n, p) },
		svm.Params{Kernel: svm.Kernel{Kind: "rbf", Gamma: gamma}, C: c, Epsilon: 0.05, Tol: 1e-3})
	if err != nil {
		return fmt.Errorf("HOG+SVR: %w", err)
	}
	s.regressors = append(s.regressors, regressor{name: "HOG+SVR", predict: func(d *data) ([]float64, error) {
		return s.decisions("HOG+SVR predictions", scaler.Apply(d.hog), func(x [][]float64, progress func(int)) []float64 {
			return svr.Decisions(x, 0, progress)
		}), nil
	}})
	return nil
}

// regression scores every regressor on the sweep's holdout.
func (s *state) regression() error {
	if len(s.swTrain.lab) == 0 || len(s.swHold.lab) == 0 {
		s.note("No sweep simulations in train and holdout: no regression of n.")
		return nil
	}
	t := report.Table{Title: "Spectral index n of the sweep holdout", Columns: []string{"mse", "r2", "r2_sweep", "images"}}
	truth := s.swHold.index()
	distinct := map[float64]bool{}
	for _, n := range truth {
		distinct[n] = true
	}
	// R² compares with the spread of the holdout's own n, which a small
	// holdout barely samples (two simulations may differ by 0.1 in n on a
	// sweep of width 1); r2_sweep compares the MSE with the variance of n
	// over the training split, the skill against guessing its mean.
	prior := variance(s.swTrain.index())
	if len(distinct) < 5 {
		s.note("The sweep holdout has %d distinct values of n: its R² is relative to their spread (variance %.3g) and says little; "+
			"r2_sweep relates the MSE to the variance of n over the training split, %.3g.", len(distinct), variance(truth), prior)
	}
	for _, reg := range s.regressors {
		pred, err := reg.predict(s.swHold)
		if err != nil {
			return fmt.Errorf("%s: %w", reg.name, err)
		}
		vals := map[string]float64{"mse": metrics.MSE(pred, truth), "images": float64(len(truth))}
		title := fmt.Sprintf("%s: MSE %.3g", reg.name, vals["mse"])
		if prior > 0 {
			vals["r2_sweep"] = 1 - vals["mse"]/prior
		}
		// R² compares with the spread of the true n: it needs at least two
		// simulations with different n in the holdout.
		if len(distinct) > 1 {
			m, err := metrics.Regress(pred, truth)
			if err != nil {
				return fmt.Errorf("%s: %w", reg.name, err)
			}
			vals["r2"] = m.R2
			title += fmt.Sprintf(", R² %.3f", m.R2)
		}
		t.Rows = append(t.Rows, report.Row{Method: reg.name, Values: vals})
		file := "regress_" + slug(reg.name) + ".png"
		if err := plots.Scatter(filepath.Join(s.o.Out, file), truth, pred, "true n", "predicted n", title, true); err != nil {
			return err
		}
		s.figure(file, "Predicted against true n on the sweep holdout, "+reg.name)
	}
	s.r.Tables = append(s.r.Tables, t)
	return nil
}

// variance returns the population variance of x (0 for fewer than two
// values).
func variance(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	_, v := stat.PopMeanVariance(x, nil)
	return v
}
