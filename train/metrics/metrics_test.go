package metrics

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// The fixed prediction set of the hand computations below.
//
//	score  0.9 0.8 0.7 0.6 0.55 0.5 0.4 0.3 0.2 0.1
//	label   1   1   0   1   1    0   0   1   0   0
//
// At threshold 0.5 (score ≥ 0.5 predicts Burgers) the first six are
// predicted positive: labels 1 1 0 1 1 0, so TP = 4 and FP = 2; the last
// four are predicted negative: labels 0 1 0 0, so TN = 3 and FN = 1.
//
//	accuracy  = (4+3)/10      = 0.7
//	precision = 4/(4+2)       = 2/3
//	recall    = 4/(4+1)       = 0.8
//	F1        = 2·4/(2·4+2+1) = 8/11
//
// AUC by Mann–Whitney, P = N = 5: the number of negatives scoring below
// each positive is 0.9 → 5 (0.7 0.5 0.4 0.2 0.1), 0.8 → 5, 0.6 → 4,
// 0.55 → 4, 0.3 → 2 (0.2 0.1); U = 20 and AUC = 20/25 = 0.8.
var (
	handScores = []float64{0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.4, 0.3, 0.2, 0.1}
	handLabels = []int{1, 1, 0, 1, 1, 0, 0, 1, 0, 0}
)

// The tied prediction set:
//
//	score  0.8 0.8 0.5 0.5 0.5 0.2
//	label   1   0   1   1   0   0
//
// P = N = 3. Mann–Whitney with ties counted 1/2: the positive at 0.8 beats
// 0.5 and 0.2 and ties 0.8 → 2.5; each positive at 0.5 beats 0.2 and ties
// 0.5 → 1.5; U = 5.5 and AUC = 5.5/9 = 11/18.
//
// ROC, one point per distinct score:
//
//	threshold +Inf: TP 0 FP 0 → (0, 0)
//	threshold 0.8:  TP 1 FP 1 → (1/3, 1/3)
//	threshold 0.5:  TP 3 FP 2 → (2/3, 1)
//	threshold 0.2:  TP 3 FP 3 → (1, 1)
//
// Trapezoids: 1/3·(0+1/3)/2 + 1/3·(1/3+1)/2 + 1/3·(1+1)/2
// = 1/18 + 4/18 + 6/18 = 11/18, as Mann–Whitney.
//
// At threshold 0.5: TP 3, FP 2, TN 1, FN 0.
var (
	tieScores = []float64{0.8, 0.8, 0.5, 0.5, 0.5, 0.2}
	tieLabels = []int{1, 0, 1, 1, 0, 0}
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestConfusionByHand(t *testing.T) {
	c := Confuse(handScores, handLabels, 0.5)
	if want := (Confusion{TP: 4, FP: 2, TN: 3, FN: 1}); c != want {
		t.Fatalf("Confuse = %+v, want %+v", c, want)
	}
	for _, test := range []struct {
		name      string
		got, want float64
	}{
		{"accuracy", c.Accuracy(), 0.7},
		{"precision", c.Precision(), 2.0 / 3},
		{"recall", c.Recall(), 0.8},
		{"F1", c.F1(), 8.0 / 11},
	} {
		if !near(test.got, test.want, 1e-15) {
			t.Errorf("%s = %v, want %v", test.name, test.got, test.want)
		}
	}
	if got := AUC(handScores, handLabels); !near(got, 0.8, 1e-15) {
		t.Errorf("AUC = %v, want 0.8", got)
	}

	if c := Confuse(tieScores, tieLabels, 0.5); c != (Confusion{TP: 3, FP: 2, TN: 1, FN: 0}) {
		t.Errorf("Confuse(ties) = %+v, want {3 2 1 0}: a score equal to the threshold is positive", c)
	}
}

// TestTalkConfusion checks the figures of the talk's holdout confusion
// matrix: 2113 Kolmogorov and 1588 Burgers images right, 287 and 812
// wrong, 77 % accuracy.
func TestTalkConfusion(t *testing.T) {
	c := Confusion{TP: 1588, FP: 287, TN: 2113, FN: 812}
	if c.N() != 4800 {
		t.Errorf("N = %d, want 4800", c.N())
	}
	if got := c.Accuracy(); !near(got, 3701.0/4800, 1e-15) || math.Round(100*got) != 77 {
		t.Errorf("accuracy = %v, want 3701/4800 ≈ 77 %%", got)
	}
	if got := c.Precision(); !near(got, 1588.0/1875, 1e-15) {
		t.Errorf("precision = %v, want 1588/1875", got)
	}
	if got := c.Recall(); !near(got, 1588.0/2400, 1e-15) {
		t.Errorf("recall = %v, want 1588/2400", got)
	}
}

func TestZeroDivision(t *testing.T) {
	var c Confusion
	if c.Accuracy() != 0 || c.Precision() != 0 || c.Recall() != 0 || c.F1() != 0 {
		t.Errorf("empty confusion: got %v %v %v %v, want zeros", c.Accuracy(), c.Precision(), c.Recall(), c.F1())
	}
	c = Confusion{TN: 3, FN: 2} // Never predicts Burgers.
	if c.Precision() != 0 || c.F1() != 0 || c.Accuracy() != 0.6 {
		t.Errorf("all-negative predictions: precision %v F1 %v accuracy %v", c.Precision(), c.F1(), c.Accuracy())
	}
}

func TestROCTies(t *testing.T) {
	got := ROC(tieScores, tieLabels)
	want := []ROCPoint{
		{0, 0, math.Inf(1)},
		{1.0 / 3, 1.0 / 3, 0.8},
		{2.0 / 3, 1, 0.5},
		{1, 1, 0.2},
	}
	if len(got) != len(want) {
		t.Fatalf("ROC = %v, want %v", got, want)
	}
	for i := range got {
		if !near(got[i].FPR, want[i].FPR, 1e-15) || !near(got[i].TPR, want[i].TPR, 1e-15) || got[i].Threshold != want[i].Threshold {
			t.Errorf("ROC[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if a := AUC(tieScores, tieLabels); !near(a, 11.0/18, 1e-15) {
		t.Errorf("AUC(ties) = %v, want 11/18", a)
	}
	// All scores equal: a single diagonal step, AUC 1/2.
	flat := []float64{0.3, 0.3, 0.3, 0.3}
	lab := []int{0, 1, 1, 0}
	if r := ROC(flat, lab); len(r) != 2 || r[1] != (ROCPoint{1, 1, 0.3}) {
		t.Errorf("ROC(constant) = %v, want [(0,0) (1,1)]", r)
	}
	if a := AUC(flat, lab); a != 0.5 {
		t.Errorf("AUC(constant) = %v, want 0.5", a)
	}
}

func TestPerfectAndInverted(t *testing.T) {
	scores := []float64{0.1, 0.2, 0.3, 0.7, 0.8, 0.9}
	labels := []int{0, 0, 0, 1, 1, 1}
	inv := []int{1, 1, 1, 0, 0, 0}
	if a := AUC(scores, labels); a != 1 {
		t.Errorf("perfect AUC = %v, want 1", a)
	}
	if a := AUC(scores, inv); a != 0 {
		t.Errorf("inverted AUC = %v, want 0", a)
	}
	if c := Confuse(scores, labels, 0.5); c.Accuracy() != 1 || c.F1() != 1 {
		t.Errorf("perfect confusion %+v", c)
	}
	if c := Confuse(scores, inv, 0.5); c.Accuracy() != 0 {
		t.Errorf("inverted confusion %+v", c)
	}
	// The perfect curve goes straight up, then right.
	r := ROC(scores, labels)
	if r[len(r)/2].FPR != 0 || r[len(r)/2].TPR != 1 {
		t.Errorf("perfect ROC does not pass through (0, 1): %v", r)
	}
}

// mannWhitney returns U/(P·N) by comparing every positive–negative pair.
func mannWhitney(scores []float64, labels []int) float64 {
	var u float64
	var p, n int
	for i, si := range scores {
		if labels[i] != 1 {
			continue
		}
		p++
		for j, sj := range scores {
			if labels[j] != 0 {
				continue
			}
			switch {
			case si > sj:
				u++
			case si == sj:
				u += 0.5
			}
		}
	}
	for _, l := range labels {
		if l == 0 {
			n++
		}
	}
	return u / float64(p*n)
}

func TestAUCMannWhitneyRandom(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 2 + rnd.IntN(300)
		scores := make([]float64, n)
		labels := make([]int, n)
		for i := range scores {
			labels[i] = rnd.IntN(2)
			scores[i] = rnd.NormFloat64() + 0.7*float64(labels[i])
			if trial%2 == 0 {
				scores[i] = math.Round(4*scores[i]) / 4 // Many ties.
			}
		}
		labels[0], labels[1] = 0, 1
		got, err := AUCErr(scores, labels)
		if err != nil {
			t.Fatal(err)
		}
		if want := mannWhitney(scores, labels); !near(got, want, 1e-12) {
			t.Fatalf("trial %d: AUC = %v, Mann–Whitney = %v", trial, got, want)
		}
		checkROC(t, ROC(scores, labels), scores)
	}
}

// checkROC checks that r starts at (0, 0), ends at (1, 1), is monotone
// in both rates with strictly decreasing thresholds, and has one point per
// distinct score besides the origin.
func checkROC(t *testing.T, r []ROCPoint, scores []float64) {
	t.Helper()
	if r[0] != (ROCPoint{0, 0, math.Inf(1)}) {
		t.Fatalf("ROC starts at %+v", r[0])
	}
	if last := r[len(r)-1]; last.FPR != 1 || last.TPR != 1 {
		t.Fatalf("ROC ends at %+v", last)
	}
	for i := 1; i < len(r); i++ {
		if r[i].FPR < r[i-1].FPR || r[i].TPR < r[i-1].TPR || !(r[i].Threshold < r[i-1].Threshold) {
			t.Fatalf("ROC not monotone at %d: %+v then %+v", i, r[i-1], r[i])
		}
	}
	distinct := make(map[float64]bool)
	for _, s := range scores {
		distinct[s] = true
	}
	if len(r) != len(distinct)+1 {
		t.Fatalf("ROC has %d points for %d distinct scores", len(r), len(distinct))
	}
}

func TestOneClass(t *testing.T) {
	scores := []float64{0.2, 0.4}
	for _, labels := range [][]int{{0, 0}, {1, 1}} {
		if r := ROC(scores, labels); r != nil {
			t.Errorf("ROC(%v) = %v, want nil", labels, r)
		}
		if a := AUC(scores, labels); !math.IsNaN(a) {
			t.Errorf("AUC(%v) = %v, want NaN", labels, a)
		}
		if _, err := AUCErr(scores, labels); !errors.Is(err, ErrOneClass) {
			t.Errorf("AUCErr(%v) error = %v, want ErrOneClass", labels, err)
		}
		if _, err := Classify(scores, labels); !errors.Is(err, ErrOneClass) {
			t.Errorf("Classify(%v) error = %v, want ErrOneClass", labels, err)
		}
	}
	if _, err := AUCErr(nil, nil); !errors.Is(err, ErrOneClass) {
		t.Errorf("AUCErr(empty) error = %v, want ErrOneClass", err)
	}
}

func TestBadInput(t *testing.T) {
	for _, test := range []struct {
		name   string
		scores []float64
		labels []int
		want   string
	}{
		{"length", []float64{0.1, 0.2}, []int{0}, "2 scores but 1 labels"},
		{"label", []float64{0.1, 0.2}, []int{0, 2}, "label 2 at index 1"},
		{"NaN", []float64{math.NaN(), 0.2}, []int{0, 1}, "index 0 is NaN"},
	} {
		if _, err := AUCErr(test.scores, test.labels); err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: AUCErr error = %v, want %q", test.name, err, test.want)
		}
		if _, err := Classify(test.scores, test.labels); err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: Classify error = %v, want %q", test.name, err, test.want)
		}
		for fn, f := range map[string]func(){
			"Confuse": func() { Confuse(test.scores, test.labels, 0.5) },
			"ROC":     func() { ROC(test.scores, test.labels) },
			"AUC":     func() { AUC(test.scores, test.labels) },
		} {
			if msg := panics(f); !strings.Contains(msg, test.want) {
				t.Errorf("%s: %s panic = %q, want %q", test.name, fn, msg, test.want)
			}
		}
	}
	if _, err := Classify(nil, nil); err == nil {
		t.Error("Classify(empty): no error")
	}
	if _, err := Classify([]float64{math.Inf(1), 0}, []int{1, 0}); err == nil {
		t.Error("Classify(+Inf score): no error")
	}
	if _, err := ClassifyAt(handScores, handLabels, math.NaN()); err == nil {
		t.Error("ClassifyAt(NaN threshold): no error")
	}
	if msg := panics(func() { MSE([]float64{1}, nil) }); msg == "" {
		t.Error("MSE of different lengths did not panic")
	}
	if msg := panics(func() { GroupMean([]float64{1}, nil) }); msg == "" {
		t.Error("GroupMean of different lengths did not panic")
	}
}

func panics(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmtPanic(r)
		}
	}()
	f()
	return ""
}

func fmtPanic(r any) string {
	if err, ok := r.(error); ok {
		return err.Error()
	}
	if s, ok := r.(string); ok {
		return s
	}
	return "panic"
}

func TestClassify(t *testing.T) {
	got, err := Classify(handScores, handLabels)
	if err != nil {
		t.Fatal(err)
	}
	want := Classification{
		Accuracy:  0.7,
		AUC:       0.8,
		Precision: 4.0 / 6,
		Recall:    0.8,
		F1:        8.0 / 11,
		Threshold: 0.5,
		Confusion: Confusion{TP: 4, FP: 2, TN: 3, FN: 1},
		N:         10,
	}
	if got != want {
		t.Errorf("Classify = %+v, want %+v", got, want)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"accuracy":0.7,"auc":0.8,"precision":0.6666666666666666,"recall":0.8,"f1":0.7272727272727273,"threshold":0.5,"confusion":{"tp":4,"fp":2,"tn":3,"fn":1},"n":10}`
	if string(b) != wantJSON {
		t.Errorf("JSON:\n got %s\nwant %s", b, wantJSON)
	}
	// An SVM decision value is thresholded at 0.
	shifted := make([]float64, len(handScores))
	for i, s := range handScores {
		shifted[i] = s - 0.5
	}
	at, err := ClassifyAt(shifted, handLabels, 0)
	if err != nil {
		t.Fatal(err)
	}
	at.Threshold = 0.5
	if at != want {
		t.Errorf("ClassifyAt(shifted, 0) = %+v, want %+v", at, want)
	}
}

// The regression set by hand:
//
//	truth 3.0 3.5 4.0 4.5  (mean 3.75)
//	pred  3.1 3.4 4.2 4.3
//	error 0.1 -0.1 0.2 -0.2
//
//	MSE  = (0.01+0.01+0.04+0.04)/4 = 0.025
//	bias = 0
//	SS_tot = 0.5625+0.0625+0.0625+0.5625 = 1.25
//	R²   = 1 - 0.1/1.25 = 0.92
func TestRegressionByHand(t *testing.T) {
	truth := []float64{3, 3.5, 4, 4.5}
	pred := []float64{3.1, 3.4, 4.2, 4.3}
	if got := MSE(pred, truth); !near(got, 0.025, 1e-15) {
		t.Errorf("MSE = %v, want 0.025", got)
	}
	if got := R2(pred, truth); !near(got, 0.92, 1e-14) {
		t.Errorf("R2 = %v, want 0.92", got)
	}
	r, err := Regress(pred, truth)
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 4 || !near(r.MSE, 0.025, 1e-15) || !near(r.RMSE, math.Sqrt(0.025), 1e-15) || !near(r.R2, 0.92, 1e-14) || !near(r.Bias, 0, 1e-15) {
		t.Errorf("Regress = %+v", r)
	}
	// A constant offset is all bias; predicting the mean gives R² = 0.
	up := []float64{3.2, 3.7, 4.2, 4.7}
	if r, _ := Regress(up, truth); !near(r.Bias, 0.2, 1e-15) || !near(r.MSE, 0.04, 1e-15) {
		t.Errorf("offset: %+v, want bias 0.2, MSE 0.04", r)
	}
	if got := R2([]float64{3.75, 3.75, 3.75, 3.75}, truth); got != 0 {
		t.Errorf("R2(mean) = %v, want 0", got)
	}
	if got := R2(truth, truth); got != 1 {
		t.Errorf("R2(perfect) = %v, want 1", got)
	}

	if !math.IsNaN(MSE(nil, nil)) || !math.IsNaN(R2(nil, nil)) {
		t.Error("MSE or R2 of empty input is not NaN")
	}
	if !math.IsNaN(R2([]float64{1, 2}, []float64{3, 3})) {
		t.Error("R2 of constant truth is not NaN")
	}
	for name, in := range map[string][2][]float64{
		"empty":    {nil, nil},
		"length":   {{1, 2}, {1}},
		"NaN":      {{1, math.NaN()}, {1, 2}},
		"Inf":      {{1, 2}, {math.Inf(-1), 2}},
		"constant": {{1, 2}, {3, 3}},
	} {
		if _, err := Regress(in[0], in[1]); err == nil {
			t.Errorf("Regress(%s): no error", name)
		}
	}
}

func TestGroupMean(t *testing.T) {
	values := []float64{1, 2, 3, 4, 5, 6}
	groups := []string{"sim-b", "sim-a", "sim-b", "sim-c", "sim-a", "sim-b"}
	keys, means := GroupMean(values, groups)
	wantKeys := []string{"sim-a", "sim-b", "sim-c"}
	wantMeans := []float64{(2 + 5) / 2.0, (1 + 3 + 6) / 3.0, 4}
	if !reflect.DeepEqual(keys, wantKeys) || !reflect.DeepEqual(means, wantMeans) {
		t.Errorf("GroupMean = %v %v, want %v %v", keys, means, wantKeys, wantMeans)
	}
	if k, m := GroupMean(nil, nil); k != nil || m != nil {
		t.Errorf("GroupMean(empty) = %v %v", k, m)
	}

	// 48 predictions per simulation, as in the study.
	var v []float64
	var g []string
	for _, sim := range []string{"s2", "s1"} {
		for i := range 48 {
			x := 0.25
			if sim == "s1" {
				x = float64(i%2) * 0.5 // Mean 0.25 too, but 0 and 0.5.
			}
			v = append(v, x)
			g = append(g, sim)
		}
	}
	keys, means = GroupMean(v, g)
	if !reflect.DeepEqual(keys, []string{"s1", "s2"}) || means[0] != 0.25 || means[1] != 0.25 {
		t.Errorf("GroupMean(48 per simulation) = %v %v", keys, means)
	}
}

func TestROCArea(t *testing.T) {
	if got := ROCArea(ROC(tieScores, tieLabels)); !near(got, 11.0/18, 1e-15) {
		t.Errorf("ROCArea(ties) = %v, want 11/18", got)
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	scores := make([]float64, 1000)
	labels := make([]int, 1000)
	for i := range scores {
		labels[i] = i % 2
		scores[i] = math.Round(10*(rnd.Float64()+0.3*float64(labels[i]))) / 10
	}
	if a, b := ROCArea(ROC(scores, labels)), AUC(scores, labels); !near(a, b, 1e-12) {
		t.Errorf("ROCArea = %v, AUC = %v", a, b)
	}
	if ROCArea(nil) != 0 {
		t.Error("ROCArea(nil) != 0")
	}
}
