package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/resources"
	"github.com/turbindex/turbindex/sim/driver"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/degrade"
	"github.com/turbindex/turbindex/train/metrics"
)

// TestLeastSquaresNumpy compares LeastSquares with numpy.linalg.lstsq (with
// an intercept column) on a fixed problem with a dead (constant) feature,
// as ReLU embeddings have; lstsq gives the minimum-norm solution, whose
// coefficient of a constant centred column is 0, like ours.
func TestLeastSquaresNumpy(t *testing.T) {
	py := ""
	for _, c := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(c, "-c", "import numpy").Run() == nil {
			py = c
			break
		}
	}
	if py == "" {
		t.Skip("numpy not importable (install the Debian package python3-numpy)")
	}
	r := rand.New(rand.NewPCG(3, 4))
	const n, d = 200, 6
	x := make([][]float64, n)
	y := make([]float64, n)
	for i := range x {
		x[i] = make([]float64, d)
		for j := range d {
			x[i][j] = r.NormFloat64()
		}
		x[i][3] = 0.7 // dead unit
		y[i] = 0.5 + 2*x[i][0] - x[i][4] + 0.1*r.NormFloat64()
	}
	in, _ := json.Marshal(map[string]any{"x": x, "y": y})
	cmd := exec.Command(py, "-c", `
import json, sys
import numpy as np
d = json.load(sys.stdin)
x = np.array(d["x"]); y = np.array(d["y"])
xc = x - x.mean(axis=0); yc = y - y.mean()
b, *_ = np.linalg.lstsq(xc, yc, rcond=None)
b0 = y.mean() - x.mean(axis=0) @ b
json.dump([b0] + b.tolist(), sys.stdout)
`)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []float64
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	got, err := LeastSquares(x, y)
	if err != nil {
		t.Fatal(err)
	}
	for j := range want {
		if math.Abs(got[j]-want[j]) > 1e-8*(1+math.Abs(want[j])) {
			t.Errorf("β[%d] = %.12g, numpy %.12g", j, got[j], want[j])
		}
	}
	if got[4] != 0 {
		t.Errorf("the dead feature got coefficient %g, want 0", got[4])
	}
	if _, err := LeastSquares(x[:1], y[:1]); err == nil {
		t.Error("one row accepted")
	}
}

// probeFixture simulates 6 Kolmogorov and 6 Burgers simulations at 16³ and
// trains a tiny debiased classifier on them for one epoch; it returns the
// run directory. The batch (10) does not divide a simulation's 48 images,
// so that batches straddle simulations and the loader's windows.
func probeFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	m, err := campaign.Plan(campaign.PlanOptions{Preset: "demo", CampaignSeed: 7, Grid: 16, Kolmogorov: 6, Burgers: 6})
	if err != nil {
		t.Fatal(err)
	}
	snaps := filepath.Join(dir, "snaps")
	if err := os.MkdirAll(snaps, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Rows {
		if _, err := driver.Run(context.Background(), driver.Turbulence(m.Run(r), campaign.SnapshotPath(snaps, r.ID)), driver.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	mpath := filepath.Join(dir, "m.csv")
	if err := campaign.WriteFile(mpath, m, false); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	cfg := Config{Task: Classify, Manifest: mpath, Snapshots: snaps, ImageSize: 8, Epochs: 1, Seed: 3,
		Debias: &Debias{Nuisance: NuisanceAmplitude, Lambda: 0.5},
		CNN:    cnn.Config{Task: cnn.TaskClassify, ImageSize: 8, Filters: []int{4, 4}, Dense: []int{8, 6}, LearnRate: 1e-3, Batch: 10, Seed: 3}}
	if err := Fit(context.Background(), run, cfg, FitOptions{}); err != nil {
		t.Fatal(err)
	}
	return run
}

// inMemoryProbe is the probe as ProbeRun computed it before it streamed:
// both splits loaded whole (dataset.Load, no image cache), the training
// subset taken from the loaded images, every image standardised and
// embedded at once. It is the reference the streamed probe must equal.
func inMemoryProbe(t *testing.T, dir string, maxTrain int) Probe {
	t.Helper()
	cfg, model, err := loadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg
	c.Cache = ""
	data, err := rawSplits(&c, []string{campaign.Train, campaign.Holdout}, nil)
	if err != nil {
		t.Fatal(err)
	}
	train, hold := data[campaign.Train], data[campaign.Holdout]
	if len(train) > maxTrain {
		var sub []dataset.Image
		for _, i := range subset(len(train), maxTrain, cfg.Seed) {
			sub = append(sub, train[i])
		}
		train = sub
	}
	embed := func(images []dataset.Image) (nu []float64, emb [][]float64, class [][]float64, pred []float32) {
		x := make([]float32, 0, len(images)*cfg.ImageSize*cfg.ImageSize)
		for _, im := range images {
			nu = append(nu, degrade.StdDev(im.Pix))
			class = append(class, []float64{float64(target(Classify, im.Label))})
			start := len(x)
			x = append(x, im.Pix...)
			cfg.standardise(x[start:])
		}
		e, err := model.Embed(x)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range e {
			row := make([]float64, len(r))
			for j, v := range r {
				row[j] = float64(v)
			}
			emb = append(emb, row)
		}
		if pred, err = model.Predict(x); err != nil {
			t.Fatal(err)
		}
		return nu, emb, class, pred
	}
	nuT, embT, classT, _ := embed(train)
	nuH, embH, classH, pred := embed(hold)
	p := Probe{Train: len(train), Holdout: len(hold), Dims: len(embT[0])}
	s := make([]float64, len(pred))
	y := make([]int, len(pred))
	for i, v := range pred {
		s[i], y[i] = float64(v)-0.5, int(classH[i][0])
	}
	cm, err := metrics.ClassifyAt(s, y, 0)
	if err != nil {
		t.Fatal(err)
	}
	p.Accuracy, p.AUC = cm.Accuracy, cm.AUC
	beta, err := LeastSquares(embT, nuT)
	if err != nil {
		t.Fatal(err)
	}
	p.R2Train, p.R2 = metrics.R2(Linear(beta, embT), nuT), metrics.R2(Linear(beta, embH), nuH)
	if b, err := LeastSquares(classT, nuT); err == nil {
		p.R2Class = metrics.R2(Linear(b, classH), nuH)
	}
	return p
}

// TestProbeStreamed checks that the probe, which streams the images it
// uses in batches, gives the same figures bit for bit as the probe that
// loaded both splits whole: with every training image, and with a subset
// (the same images, chosen by the run's seed over the whole split). Then
// that a budget below the estimate is refused before anything is written.
func TestProbeStreamed(t *testing.T) {
	dir := probeFixture(t)
	for _, maxTrain := range []int{probeMaxTrain, 100} {
		got, err := probeRun(dir, Options{}, maxTrain)
		if err != nil {
			t.Fatal(err)
		}
		want := inMemoryProbe(t, dir, maxTrain)
		if got.Train != want.Train || got.Holdout != want.Holdout || got.Dims != want.Dims ||
			got.Accuracy != want.Accuracy || got.AUC != want.AUC || got.R2 != want.R2 || got.R2Train != want.R2Train || got.R2Class != want.R2Class {
			t.Errorf("at most %d training images: streamed %+v, in memory %+v", maxTrain, *got, want)
		}
		t.Logf("at most %d training images: %d used, R² %.6g, train R² %.6g, accuracy %.4g", maxTrain, got.Train, got.R2, got.R2Train, got.Accuracy)
		if maxTrain < probeMaxTrain && got.Train != maxTrain {
			t.Errorf("at most %d training images: %d used", maxTrain, got.Train)
		}
	}
	// The nuisance is that of the raw image, before the standardisation (a
	// global affine map, which the R² alone would not see).
	cfg, model, err := loadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := openSplit(dir, &cfg, campaign.Holdout, classesFor(Classify), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := probeImages(model, &cfg, s, all(s.Len()), true)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]float32, s.Size*s.Size)
	for i := range s.Len() {
		if err := s.Read(i, raw); err != nil {
			t.Fatal(err)
		}
		if want := degrade.StdDev(raw); d.nu[i] != want {
			t.Fatalf("holdout image %d: nuisance %g, want %g (its raw log Σ)", i, d.nu[i], want)
		}
	}
	if err := os.Remove(filepath.Join(dir, "probe.json")); err != nil {
		t.Fatal(err)
	}
	lim := resources.Limits{Memory: 1 << 20, MemorySource: "--memory"}
	_, err = ProbeRun(dir, Options{Limits: &lim})
	var big *resources.TooBigError
	if !errors.As(err, &big) {
		t.Fatalf("a probe over a 1 MiB budget: %v, want a *resources.TooBigError", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "probe.json")); err == nil {
		t.Error("a refused probe wrote probe.json")
	}
}

// TestProbeMemoryBounded checks that the estimate of the probe does not
// grow with the training split beyond its tables: at the paper's scale
// (1600 training simulations, 76 800 images of 250², 19 GB of pixels) it
// is that of a campaign of 200 training simulations plus their tables'
// 64 bytes an image, and stays under 1 GB.
func TestProbeMemoryBounded(t *testing.T) {
	cfg := Config{CNN: cnn.DefaultConfig(cnn.TaskClassify, 250)}
	small, paper := ProbeMemory(cfg, 250, 200, 200), ProbeMemory(cfg, 250, 1600, 200)
	tables := float64(1400 * dataset.PerSnapshot * 64)
	t.Logf("250²: %.0f MB for 200 training simulations, %.0f MB for 1600", float64(small)/1e6, float64(paper)/1e6)
	if d := float64(paper - small); d > 1.01*tables {
		t.Errorf("the estimate grows by %.3g MB from 200 to 1600 training simulations, more than their tables (%.3g MB)", d/1e6, tables/1e6)
	}
	if paper > 1e9 {
		t.Errorf("the estimate at the paper's scale is %.3g GB", float64(paper)/1e9)
	}
}
