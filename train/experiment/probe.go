package experiment

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"

	"gonum.org/v1/gonum/mat"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/metrics"
)

// Probe is probe.json, what `train probe` measures of a classifier run: its
// holdout accuracy and how much of the amplitude nuisance (the standard
// deviation of an image's log Σ) its embedding still holds, as the R² of a
// linear probe — ordinary least squares of the nuisance on the embedding
// (the last hidden layer, what Embed returns) with an intercept, fitted on
// the training images and scored on the holdout images. R2Class is the same
// probe given only the true class (one indicator): what an embedding that
// knew the class perfectly and nothing else would score, since the
// amplitude differs between the classes.
type Probe struct {
	Run       string  `json:"run"`
	Lambda    float64 `json:"lambda"` // the run's debiasing weight (0: none)
	Accuracy  float64 `json:"accuracy"`
	AUC       float64 `json:"auc"`
	R2        float64 `json:"r2"`         // holdout R² of the probe on the embedding
	R2Train   float64 `json:"r2_train"`   // its R² on the training images it was fitted to
	R2Class   float64 `json:"r2_class"`   // holdout R² of the probe on the class alone
	Dims      int     `json:"dims"`       // embedding width
	Train     int     `json:"train"`      // training images the probe was fitted on
	Holdout   int     `json:"holdout"`    // holdout images scored
	Nuisance  string  `json:"nuisance"`   // "amplitude"
	Unit      string  `json:"unit"`       // of the nuisance: dex
	Model     string  `json:"model"`      // best.cnn
	MaxImages int     `json:"max_images"` // training images used at most (a fixed subset beyond)
}

// probeMaxTrain bounds the training images the probe reads (a fixed subset
// beyond): 8192 embeddings of 64 values fit in a few MB.
const probeMaxTrain = 8192

// ProbeRun measures the run in dir (a classifier) as Probe says and writes
// probe.json.
func ProbeRun(dir string, log *slog.Logger) (*Probe, error) {
	cfg, model, err := loadRun(dir)
	if err != nil {
		return nil, err
	}
	if cfg.Task != Classify {
		return nil, fmt.Errorf("run %s: probe needs a %s run, not %s", dir, Classify, cfg.Task)
	}
	c := cfg // rawSplits recomputes the statistics; use the saved ones
	data, err := rawSplits(&c, []string{campaign.Train, campaign.Holdout}, warner(log))
	if err != nil {
		return nil, err
	}
	train, hold := data[campaign.Train], data[campaign.Holdout]
	if len(train) > probeMaxTrain {
		train = subset(train, probeMaxTrain, cfg.Seed)
	}
	p := &Probe{Run: dir, Nuisance: NuisanceAmplitude, Unit: "dex", Model: "best.cnn", MaxImages: probeMaxTrain,
		Train: len(train), Holdout: len(hold)}
	if cfg.Debias != nil {
		p.Lambda = cfg.Debias.Lambda
	}
	embed := func(images []dataset.Image) ([]float64, [][]float32, []float32, error) {
		nu := nuisances(images)
		x := make([]float32, 0, len(images)*cfg.ImageSize*cfg.ImageSize)
		for _, im := range images {
			start := len(x)
			x = append(x, im.Pix...)
			cfg.standardise(x[start:])
		}
		emb, err := model.Embed(x)
		if err != nil {
			return nil, nil, nil, err
		}
		pred, err := model.Predict(x)
		if err != nil {
			return nil, nil, nil, err
		}
		return nu, emb, pred, nil
	}
	nuT, embT, _, err := embed(train)
	if err != nil {
		return nil, err
	}
	nuH, embH, pred, err := embed(hold)
	if err != nil {
		return nil, err
	}
	p.Dims = len(embT[0])
	yH := make([]int, len(hold))
	for i, im := range hold {
		yH[i] = int(target(Classify, im.Label))
	}
	s := make([]float64, len(pred))
	for i, v := range pred {
		s[i] = float64(v) - 0.5
	}
	cm, err := metrics.ClassifyAt(s, yH, 0)
	if err != nil {
		return nil, err
	}
	p.Accuracy, p.AUC = cm.Accuracy, cm.AUC
	beta, err := LeastSquares(rows(embT), nuT)
	if err != nil {
		return nil, fmt.Errorf("probe of %s: %w", dir, err)
	}
	p.R2Train = metrics.R2(Linear(beta, rows(embT)), nuT)
	p.R2 = metrics.R2(Linear(beta, rows(embH)), nuH)
	classOf := func(images []dataset.Image) [][]float64 {
		out := make([][]float64, len(images))
		for i, im := range images {
			out[i] = []float64{float64(target(Classify, im.Label))}
		}
		return out
	}
	if b, err := LeastSquares(classOf(train), nuT); err == nil {
		p.R2Class = metrics.R2(Linear(b, classOf(hold)), nuH)
	}
	js, _ := json.MarshalIndent(p, "", "  ")
	return p, writeFile(filepath.Join(dir, "probe.json"), append(js, '\n'))
}

func rows(emb [][]float32) [][]float64 {
	out := make([][]float64, len(emb))
	for i, e := range emb {
		out[i] = make([]float64, len(e))
		for j, v := range e {
			out[i][j] = float64(v)
		}
	}
	return out
}

// LeastSquares returns the coefficients β of the linear model
// y ≈ β₀ + Σⱼ βⱼ₊₁ xⱼ that minimise the squared error over the rows of x,
// by the normal equations on centred data, solved with a Cholesky
// factorisation. Features that are constant over the rows (dead ReLU units)
// get coefficient 0; a ridge of 1e-10 times the mean feature variance keeps
// the system positive definite when features are collinear, changing the
// fit by less than that relative amount otherwise.
func LeastSquares(x [][]float64, y []float64) ([]float64, error) {
	n := len(x)
	if n < 2 || len(y) != n {
		return nil, fmt.Errorf("least squares: %d rows and %d targets: want at least 2 of each, as many", n, len(y))
	}
	d := len(x[0])
	mx := make([]float64, d)
	var my float64
	for i, r := range x {
		if len(r) != d {
			return nil, fmt.Errorf("least squares: row %d has %d features, want %d", i, len(r), d)
		}
		for j, v := range r {
			mx[j] += v / float64(n)
		}
		my += y[i] / float64(n)
	}
	a := mat.NewSymDense(d, nil)
	b := mat.NewVecDense(d, nil)
	for i, r := range x {
		for j := range d {
			dj := r[j] - mx[j]
			b.SetVec(j, b.AtVec(j)+dj*(y[i]-my))
			for k := j; k < d; k++ {
				a.SetSym(j, k, a.At(j, k)+dj*(r[k]-mx[k]))
			}
		}
	}
	var trace float64
	for j := range d {
		trace += a.At(j, j)
	}
	ridge := 1e-10 * trace / float64(d)
	live := make([]bool, d)
	for j := range d {
		live[j] = a.At(j, j) > ridge
		if !live[j] {
			// A constant feature: no information; pin its coefficient to 0.
			for k := range d {
				a.SetSym(j, k, 0)
			}
			b.SetVec(j, 0)
			a.SetSym(j, j, 1)
		} else {
			a.SetSym(j, j, a.At(j, j)+ridge)
		}
	}
	var ch mat.Cholesky
	if ok := ch.Factorize(a); !ok {
		return nil, fmt.Errorf("least squares: the %d features are degenerate", d)
	}
	var coef mat.VecDense
	if err := ch.SolveVecTo(&coef, b); err != nil {
		return nil, fmt.Errorf("least squares: %w", err)
	}
	beta := make([]float64, d+1)
	beta[0] = my
	for j := range d {
		if live[j] {
			beta[j+1] = coef.AtVec(j)
			beta[0] -= beta[j+1] * mx[j]
		}
	}
	return beta, nil
}

// Linear returns β₀ + Σⱼ βⱼ₊₁ xⱼ for every row of x.
func Linear(beta []float64, x [][]float64) []float64 {
	out := make([]float64, len(x))
	for i, r := range x {
		s := beta[0]
		for j, v := range r {
			s += beta[j+1] * v
		}
		out[i] = s
	}
	return out
}
