package study

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/turbindex/turbindex/analysis/moments"
	"github.com/turbindex/turbindex/analysis/report"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/sim/driver"
	"github.com/turbindex/turbindex/train/dataset"
)

// TestRun runs the whole study on a tiny campaign and checks the report:
// every figure it references exists, metrics.json parses and agrees with
// the tables, and each classifier's accuracy is a probability.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	m, err := campaign.Plan(campaign.PlanOptions{Preset: "demo", CampaignSeed: 3, Grid: 32, Kolmogorov: 3, Burgers: 3, Sweep: 16})
	if err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(dir, "m.csv")
	if err := campaign.WriteFile(mpath, m, false); err != nil {
		t.Fatal(err)
	}
	snaps := filepath.Join(dir, "snaps")
	os.Mkdir(snaps, 0o777)
	for _, row := range m.Rows {
		if _, err := driver.Run(context.Background(), driver.Turbulence(m.Run(row), campaign.SnapshotPath(snaps, row.ID)), driver.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	o := Defaults()
	o.Manifest, o.Snapshots, o.Out = mpath, snaps, filepath.Join(dir, "report")
	o.Zooms = []float64{0.5, 1, 2}
	os.Mkdir(o.Out, 0o777)
	r, err := Run(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Figures {
		if _, err := os.Stat(filepath.Join(o.Out, f.File)); err != nil {
			t.Errorf("figure %s: %v", f.File, err)
		}
	}
	var back report.Report
	raw, err := os.ReadFile(filepath.Join(o.Out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Tables) < 6 || len(back.Tables[0].Rows) != 6 || len(back.Tables[1].Rows) != 5 {
		t.Fatalf("tables: %+v", back.Tables)
	}
	// The degradation tables: one per knob, every level a probability, and
	// the first column the clean holdout, the same as in the first table.
	holdout := map[string]float64{}
	for _, row := range back.Tables[0].Rows {
		if row.Warning == "" {
			holdout[row.Method] = row.Values["accuracy"]
		}
	}
	knobs := 0
	for _, tab := range back.Tables {
		if !strings.HasSuffix(tab.Title, "holdout accuracy") || tab.Columns[0] != "none" {
			continue
		}
		knobs++
		if len(tab.Columns) != 5 || len(tab.Rows) != len(holdout) {
			t.Errorf("%s: columns %v, %d rows; want none and 4 levels, %d methods", tab.Title, tab.Columns, len(tab.Rows), len(holdout))
		}
		for _, row := range tab.Rows {
			if row.Values["none"] != holdout[row.Method] {
				t.Errorf("%s, %s: undegraded accuracy %v, holdout table %v", tab.Title, row.Method, row.Values["none"], holdout[row.Method])
			}
			for c, v := range row.Values {
				if v < 0 || v > 1 {
					t.Errorf("%s, %s, %s: accuracy %v", tab.Title, row.Method, c, v)
				}
			}
		}
	}
	if knobs != 3 {
		t.Errorf("%d degradation tables, want 3 (beam, noise, gradient)", knobs)
	}
	for i, row := range back.Tables[0].Rows {
		acc := row.Values["accuracy"]
		if acc < 0 || acc > 1 || acc != r.Tables[0].Rows[i].Values["accuracy"] {
			t.Errorf("%s: accuracy %v in metrics.json, %v in the table", row.Method, acc, r.Tables[0].Rows[i].Values["accuracy"])
		}
	}
	if n := back.Tables[1].Rows[0].Values["images"]; n != 48*2 {
		t.Errorf("regression on %v holdout images, want 96 (two sweep simulations)", n)
	}
	// r2 and r2_sweep divide the same MSE by the holdout's and the training
	// split's variance of n: their ratio (1−r2_sweep)/(1−r2) is one
	// number for every method; and two holdout simulations get the note.
	ratio := 0.0
	for _, row := range back.Tables[1].Rows {
		v := row.Values
		got := (1 - v["r2_sweep"]) / (1 - v["r2"])
		if ratio == 0 {
			ratio = got
		}
		if !(got > 0) || math.Abs(got-ratio) > 1e-9*ratio || !(v["r2_sweep"] <= 1) {
			t.Errorf("%s: r2 %v, r2_sweep %v: ratio %v, others %v", row.Method, v["r2"], v["r2_sweep"], got, ratio)
		}
	}
	if !slices.ContainsFunc(back.Notes, func(n string) bool { return strings.Contains(n, "2 distinct values of n") }) {
		t.Errorf("no note on the two-simulation sweep holdout: %q", back.Notes)
	}
	if len(back.Headline) != 2 {
		t.Errorf("headline %q", back.Headline)
	}
	if _, err := os.Stat(filepath.Join(o.Out, "index.html")); err != nil {
		t.Error(err)
	}
}

// synthetic returns a study state whose train and holdout images carry
// made-up features: sims simulations per class of per images each, the
// first HOG feature, the slope, the standard deviation and the kurtosis 3σ apart between the classes, and the
// first training image of class first.
func synthetic(t *testing.T, sims, per int, first string) *state {
	rng := rand.New(rand.NewPCG(7, 11))
	s := &state{o: Defaults(), log: slog.New(slog.DiscardHandler), t0: time.Now(),
		r: &report.Report{Parameters: map[string]string{}}, clsTrain: &data{}, clsTest: &data{}, clsHold: &data{}, swTrain: &data{}, swHold: &data{}}
	s.o.Out = t.TempDir()
	s.gammas = []float64{0.1, 0.5}
	classes := []string{campaign.Kolmogorov, campaign.Burgers}
	if first == campaign.Burgers {
		classes = []string{campaign.Burgers, campaign.Kolmogorov}
	}
	for _, d := range []*data{s.clsTrain, s.clsTest, s.clsHold} {
		for k := 0; k < sims; k++ {
			for _, class := range classes {
				shift := -1.5
				if class == campaign.Burgers {
					shift = 1.5
				}
				id := fmt.Sprintf("%s-%p-%d", class, d, k)
				for i := 0; i < per; i++ {
					d.lab = append(d.lab, dataset.Label{ID: id, Class: class})
					d.hog = append(d.hog, []float64{shift + rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()})
					d.slope = append(d.slope, -3+0.5*shift+0.5*rng.NormFloat64())
					d.moments = append(d.moments, moments.Moments{Mean: rng.NormFloat64(), Std: 1 - 0.1*shift + 0.1*rng.NormFloat64(),
						Skewness: rng.NormFloat64(), Kurtosis: shift + rng.NormFloat64()})
				}
			}
		}
	}
	return s
}

// TestFirstSampleClass trains the study's classifiers with the first
// training image of either class: an SVM's decision value is positive for
// the class of its first training sample, and the study must turn it into
// "positive means Burgers" either way.
func TestFirstSampleClass(t *testing.T) {
	for _, first := range []string{campaign.Kolmogorov, campaign.Burgers} {
		t.Run(first, func(t *testing.T) {
			s := synthetic(t, 6, 8, first)
			if got := s.clsTrain.lab[0].Class; got != first {
				t.Fatalf("first training image is %s", got)
			}
			for _, st := range []func(*state) error{(*state).hogSVM, (*state).slope, (*state).baselines, (*state).holdout} {
				if err := st(s); err != nil {
					t.Fatal(err)
				}
			}
			for _, row := range s.r.Tables[0].Rows {
				if row.Method == "skewness of log Σ" { // no signal in the skewness
					continue
				}
				// The classes are 3σ apart: a threshold halfway gets 93 %,
				// inverted scores 7 %.
				if row.Values["accuracy"] < 0.85 || row.Values["auc"] < 0.9 || row.Values["per_sim_accuracy"] < 0.9 || row.Warning != "" ||
					row.Values["tuned_accuracy"] < 0.85 || !(row.Values["ece"] >= 0 && row.Values["ece"] < 0.15) {
					t.Errorf("%s: %v %s", row.Method, row.Values, row.Warning)
				}
			}
			// The standard deviation separates the classes as well as the
			// HOG feature does.
			if h := s.r.Headline; len(h) != 2 || !strings.Contains(h[0], "the std of log Σ, does as well as the HOG+SVM") {
				t.Errorf("headline %q", h)
			}
		})
	}
}

// TestSanity checks that an inverted classifier is flagged, left out of
// the figures and the zoom test, and that one at chance is not flagged.
func TestSanity(t *testing.T) {
	s := synthetic(t, 6, 8, campaign.Kolmogorov)
	if err := s.slope(); err != nil {
		t.Fatal(err)
	}
	good := s.classifiers[0]
	rng := rand.New(rand.NewPCG(3, 5))
	s.classifiers = append(s.classifiers,
		classifier{name: "inverted", ref: good.ref, refName: "training accuracy", score: func(d *data) ([]float64, error) {
			sc, err := good.score(d)
			for i := range sc {
				sc[i] = -sc[i]
			}
			return sc, err
		}},
		classifier{name: "coin", ref: 0.5, refName: "training accuracy", score: func(d *data) ([]float64, error) {
			sc := make([]float64, len(d.lab))
			for i := range sc {
				sc[i] = rng.NormFloat64()
			}
			return sc, nil
		}})
	if err := s.holdout(); err != nil {
		t.Fatal(err)
	}
	rows := s.r.Tables[0].Rows
	if len(rows) != 3 || rows[0].Warning != "" || rows[2].Warning != "" {
		t.Fatalf("rows: %+v", rows)
	}
	if w := rows[1].Warning; !strings.Contains(w, "below chance") || !strings.Contains(w, "below the training accuracy") {
		t.Errorf("inverted classifier: warning %q", w)
	}
	for _, f := range s.r.Figures {
		if strings.Contains(f.File, "inverted") {
			t.Errorf("figure %s of a flagged classifier", f.File)
		}
	}
	acc, err := s.accuracies(s.clsHold)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := acc["inverted"]; ok || len(acc) != 2 {
		t.Errorf("accuracies of %v", acc)
	}
}

// TestJackknife checks the jackknife σ of the AUC against the textbook
// formula on a small case worked by hand.
func TestJackknife(t *testing.T) {
	// Four simulations of two images each; leaving out a or b or c or d
	// gives AUCs of 1, 1, 0.5 and 0.5 (computed by hand below).
	scores := []float64{1, 2, 3, 4, -1, 0, 2.5, 5}
	labels := []int{1, 1, 1, 1, 0, 0, 0, 0}
	ids := []string{"a", "a", "b", "b", "c", "c", "d", "d"}
	c := sanity(scores, labels, ids, math.NaN())
	// Leave out a: positives {3,4}, negatives {-1,0,2.5,5}: pairs won 2+2+2+0 = 6 of 8.
	// Leave out b: {1,2} vs {-1,0,2.5,5}: 2+2+0+0 = 4 of 8.
	// Leave out c: {1,2,3,4} vs {2.5,5}: 2 of 8.
	// Leave out d: {1,2,3,4} vs {-1,0}: 8 of 8.
	jack := []float64{0.75, 0.5, 0.25, 1}
	mean := (0.75 + 0.5 + 0.25 + 1) / 4
	var ss float64
	for _, a := range jack {
		ss += (a - mean) * (a - mean)
	}
	want := math.Sqrt(3.0 / 4 * ss)
	if math.Abs(c.aucSigma-want) > 1e-12 {
		t.Errorf("jackknife σ = %v, want %v", c.aucSigma, want)
	}
	// Simulation means: a 1.5 (right), b 3.5 (right), c −0.5 (right), d 3.75 (wrong).
	if c.perSimAccuracy != 0.75 {
		t.Errorf("per-simulation accuracy %v, want 0.75", c.perSimAccuracy)
	}
}

// TestTunedAndProtocols scores two "CNN runs" whose scores are well ordered
// but one shifted (the "AUC 1, accuracy 0.5" case): the threshold chosen
// on the test split recovers the accuracy, and the protocols table lists
// both runs.
func TestTunedAndProtocols(t *testing.T) {
	s := synthetic(t, 6, 8, campaign.Kolmogorov)
	if err := s.slope(); err != nil {
		t.Fatal(err)
	}
	good := s.classifiers[0]
	s.classifiers = nil
	for i, shift := range []float64{0, 5} {
		s.classifiers = append(s.classifiers, classifier{name: fmt.Sprintf("CNN %d", i), ref: math.NaN(), protocol: fmt.Sprintf("protocol %d", i),
			score: func(d *data) ([]float64, error) {
				sc, err := good.score(d)
				for j := range sc {
					sc[j] += shift
				}
				return sc, err
			}})
	}
	for _, st := range []func(*state) error{(*state).holdout, (*state).protocols} {
		if err := st(s); err != nil {
			t.Fatal(err)
		}
	}
	rows := s.r.Tables[0].Rows
	if a, b := rows[0].Values, rows[1].Values; a["accuracy"] < 0.85 || b["accuracy"] > 0.6 || b["auc"] != a["auc"] ||
		math.Abs(b["tuned_accuracy"]-a["tuned_accuracy"]) > 1e-12 || b["tuned_accuracy"] < 0.85 || math.Abs(b["tuned_threshold"]-a["tuned_threshold"]-5) > 1e-9 {
		t.Errorf("unshifted %v, shifted %v", a, b)
	}
	if len(s.r.Tables) != 2 || len(s.r.Tables[1].Rows) != 2 || s.r.Tables[1].Rows[1].Method != "protocol 1" {
		t.Errorf("protocols table: %+v", s.r.Tables)
	}
}
