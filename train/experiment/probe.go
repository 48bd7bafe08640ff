package experiment

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"gonum.org/v1/gonum/mat"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/degrade"
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
// probe.json. It reads only the images it uses (the holdout, and at most
// probeMaxTrain training images), a batch at a time through the model,
// keeping of each image only its embedding, nuisance, class and
// prediction; with opt.Limits it first refuses, before reading any image,
// a probe whose estimate (ProbeMemory) exceeds the budget.
func ProbeRun(dir string, opt Options) (*Probe, error) {
	return probeRun(dir, opt, probeMaxTrain)
}

// probeRun is ProbeRun fitting the probe on at most maxTrain training
// images.
func probeRun(dir string, opt Options, maxTrain int) (*Probe, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	if cfg.Task != Classify {
		return nil, fmt.Errorf("run %s: probe needs a %s run, not %s", dir, Classify, cfg.Task)
	}
	if err := checkProbe(cfg, opt.Limits, maxTrain); err != nil {
		return nil, err
	}
	model, err := loadModel(filepath.Join(dir, "best.cnn"))
	if err != nil {
		return nil, err
	}
	classes := classesFor(cfg.Task)
	if err := checkSnapshots(dir, cfg, []string{campaign.Train, campaign.Holdout}, classes); err != nil {
		return nil, err
	}
	// The saved statistics standardise the images, as in training: the
	// streams do not recompute them.
	train, err := openSplit(dir, &cfg, campaign.Train, classes, opt.Log)
	if err != nil {
		return nil, err
	}
	hold, err := openSplit(dir, &cfg, campaign.Holdout, classes, opt.Log)
	if err != nil {
		return nil, err
	}
	// The subset is drawn over the whole training split, in its order, as
	// when the split was loaded whole: a run's probe does not depend on how
	// its images are read.
	idx := all(train.Len())
	if len(idx) > maxTrain {
		idx = subset(len(idx), maxTrain, cfg.Seed)
	}
	p := &Probe{Run: dir, Nuisance: NuisanceAmplitude, Unit: "dex", Model: "best.cnn", MaxImages: maxTrain,
		Train: len(idx), Holdout: hold.Len()}
	if cfg.Debias != nil {
		p.Lambda = cfg.Debias.Lambda
	}
	tr, err := probeImages(model, &cfg, train, idx, false)
	if err != nil {
		return nil, fmt.Errorf("probe of %s, training images: %w", dir, err)
	}
	ho, err := probeImages(model, &cfg, hold, all(hold.Len()), true)
	if err != nil {
		return nil, fmt.Errorf("probe of %s, holdout images: %w", dir, err)
	}
	p.Dims = len(tr.emb[0])
	s := make([]float64, len(ho.pred))
	for i, v := range ho.pred {
		s[i] = float64(v) - 0.5
	}
	cm, err := metrics.ClassifyAt(s, ho.y, 0)
	if err != nil {
		return nil, fmt.Errorf("probe of %s: %w", dir, err)
	}
	p.Accuracy, p.AUC = cm.Accuracy, cm.AUC
	beta, err := LeastSquares(tr.emb, tr.nu)
	if err != nil {
		return nil, fmt.Errorf("probe of %s: %w", dir, err)
	}
	p.R2Train = metrics.R2(Linear(beta, tr.emb), tr.nu)
	p.R2 = metrics.R2(Linear(beta, ho.emb), ho.nu)
	if b, err := LeastSquares(tr.class, tr.nu); err == nil {
		p.R2Class = metrics.R2(Linear(b, ho.class), ho.nu)
	}
	js, _ := json.MarshalIndent(p, "", "  ")
	return p, writeFile(filepath.Join(dir, "probe.json"), append(js, '\n'))
}

// probeData is what the probe keeps of each image it has read, in the
// order read: a few values, never the pixels.
type probeData struct {
	nu    []float64   // the amplitude nuisance of the raw image, dex
	emb   [][]float64 // the embedding
	class [][]float64 // the true class (0 Kolmogorov, 1 Burgers), as a one-feature row
	y     []int       // the same, as a label
	pred  []float32   // P(Burgers), when asked for
}

// probeImages streams the images idx of s through model in batches of its
// batch size (the batches model.Embed and model.Predict would cut from the
// images held at once, so the values are the same bit for bit) and returns
// what the probe needs of each, with the predictions when pred is true.
func probeImages(model *cnn.Model, cfg *Config, s *dataset.Stream, idx []int, pred bool) (*probeData, error) {
	d := &probeData{nu: make([]float64, 0, len(idx)), emb: make([][]float64, 0, len(idx)),
		class: make([][]float64, 0, len(idx)), y: make([]int, 0, len(idx))}
	px := s.Size * s.Size
	// The loader leaves the pixels raw (no Prepare): the nuisance is
	// measured on log Σ before the standardisation, which is applied here.
	err := s.Batches(idx, model.Config().Batch, dataset.Loader{}, func(idx []int, x []float32) error {
		for j, i := range idx {
			pix := x[j*px : (j+1)*px]
			d.nu = append(d.nu, degrade.StdDev(pix))
			cfg.standardise(pix)
			c := target(Classify, s.Label(i))
			d.class, d.y = append(d.class, []float64{float64(c)}), append(d.y, int(c))
		}
		emb, err := model.Embed(x)
		if err != nil {
			return err
		}
		for _, e := range emb {
			row := make([]float64, len(e))
			for k, v := range e {
				row[k] = float64(v)
			}
			d.emb = append(d.emb, row)
		}
		if pred {
			p, err := model.Predict(x)
			if err != nil {
				return err
			}
			d.pred = append(d.pred, p...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
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
