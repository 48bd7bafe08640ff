package study

import (
	"fmt"
	"path/filepath"

	"github.com/turbindex/turbindex/analysis/report"
	"github.com/turbindex/turbindex/analysis/svm"
	"github.com/turbindex/turbindex/train/metrics"
	"github.com/turbindex/turbindex/train/plots"
)

// regressor is a trained estimator of the spectral index n.
type regressor struct {
	name    string
	predict func(d *data) ([]float64, error)
}

// hogSVR trains HOG + SVR on the sweep's training split, C and γ chosen
// by cross-validation.
func (s *state) hogSVR() error {
	if len(s.swTrain.images) == 0 {
		return nil
	}
	scaler := svm.FitScaler(s.swTrain.hog)
	x := scaler.Apply(s.swTrain.hog)
	c, gamma, _, err := svm.GridSearch(x, s.swTrain.index(), s.o.Folds, s.o.Cs, s.gammas, true, s.o.Seed)
	if err != nil {
		return fmt.Errorf("HOG+SVR grid search: %w", err)
	}
	svr, err := svm.TrainSVR(x, s.swTrain.index(), svm.Params{Kernel: svm.Kernel{Kind: "rbf", Gamma: gamma}, C: c, Epsilon: 0.05, Tol: 1e-3, CacheMB: 200, Shrinking: true})
	if err != nil {
		return fmt.Errorf("HOG+SVR: %w", err)
	}
	s.regressors = append(s.regressors, regressor{name: "HOG+SVR", predict: func(d *data) ([]float64, error) {
		x := scaler.Apply(d.hog)
		p := make([]float64, len(x))
		for i := range x {
			p[i] = svr.Predict(x[i])
		}
		return p, nil
	}})
	return nil
}

// regression scores every regressor on the sweep's holdout.
func (s *state) regression() error {
	if len(s.swTrain.images) == 0 || len(s.swHold.images) == 0 {
		s.note("No sweep simulations in train and holdout: no regression of n.")
		return nil
	}
	t := report.Table{Title: "Spectral index n of the sweep holdout", Columns: []string{"mse", "r2", "images"}}
	truth := s.swHold.index()
	distinct := map[float64]bool{}
	for _, n := range truth {
		distinct[n] = true
	}
	for _, reg := range s.regressors {
		pred, err := reg.predict(s.swHold)
		if err != nil {
			return fmt.Errorf("%s: %w", reg.name, err)
		}
		vals := map[string]float64{"mse": metrics.MSE(pred, truth), "images": float64(len(truth))}
		title := fmt.Sprintf("%s: MSE %.3g", reg.name, vals["mse"])
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
