package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBestThreshold checks the threshold against a brute-force search over
// many candidate thresholds, and a case worked by hand.
func TestBestThreshold(t *testing.T) {
	// Scores shifted up: every negative at 0.6–0.7, every positive at 0.8+;
	// the 0.5 threshold calls everything positive.
	scores := []float64{0.6, 0.65, 0.7, 0.8, 0.9, 0.95}
	labels := []int{0, 0, 0, 1, 1, 1}
	thr, acc, err := BestThreshold(scores, labels)
	if err != nil || acc != 1 || math.Abs(thr-0.75) > 1e-12 {
		t.Errorf("threshold %v, accuracy %v, %v; want 0.75, 1", thr, acc, err)
	}
	if a := Confuse(scores, labels, 0.5).Accuracy(); a != 0.5 {
		t.Errorf("accuracy at 0.5: %v", a)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 50; trial++ {
		n := 1 + rng.IntN(40)
		s, l := make([]float64, n), make([]int, n)
		for i := range s {
			l[i] = rng.IntN(2)
			s[i] = math.Round(rng.NormFloat64()*4+float64(l[i])*3) / 2 // ties
		}
		thr, acc, err := BestThreshold(s, l)
		if err != nil {
			t.Fatal(err)
		}
		if got := Confuse(s, l, thr).Accuracy(); got != acc {
			t.Fatalf("accuracy at the threshold %v is %v, BestThreshold says %v", thr, got, acc)
		}
		for c := -20.0; c <= 20; c += 0.125 {
			if a := Confuse(s, l, c).Accuracy(); a > acc+1e-12 {
				t.Fatalf("threshold %v gets %v > best %v (at %v)", c, a, acc, thr)
			}
		}
	}
}

// TestReliability checks the bins on a case worked by hand, and that
// probabilities drawn calibrated give a small ECE and overconfident ones a
// large one.
func TestReliability(t *testing.T) {
	prob := []float64{0.05, 0.15, 0.15, 0.95, 1, 0.5}
	labels := []int{0, 0, 1, 1, 1, 0}
	bins, err := Reliability(prob, labels, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []ReliabilityBin{{0, 0.1, 0.05, 0, 1}, {0.1, 0.2, 0.15, 0.5, 2}, {0.5, 0.6, 0.5, 0, 1}, {0.9, 1, 0.975, 1, 2}}
	if len(bins) != len(want) {
		t.Fatalf("bins %+v", bins)
	}
	for i, b := range bins {
		w := want[i]
		if math.Abs(b.Lo-w.Lo) > 1e-12 || math.Abs(b.Predicted-w.Predicted) > 1e-12 || b.Observed != w.Observed || b.N != w.N {
			t.Errorf("bin %d: %+v, want %+v", i, b, w)
		}
	}
	// ECE by hand: (1·0.05 + 2·0.35 + 1·0.5 + 2·0.025)/6.
	if e := ECE(bins); math.Abs(e-(0.05+0.7+0.5+0.05)/6) > 1e-12 {
		t.Errorf("ECE %v", e)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	n := 20000
	cal, over, l := make([]float64, n), make([]float64, n), make([]int, n)
	for i := range cal {
		cal[i] = rng.Float64()
		if rng.Float64() < cal[i] {
			l[i] = 1
		}
		over[i] = math.Round(cal[i]) // always sure
	}
	bc, _ := Reliability(cal, l, 10)
	bo, _ := Reliability(over, l, 10)
	if ECE(bc) > 0.03 || ECE(bo) < 0.2 {
		t.Errorf("ECE calibrated %v (want < 0.03), overconfident %v (want ≈ 0.25)", ECE(bc), ECE(bo))
	}
	if _, err := Reliability([]float64{1.5}, []int{1}, 10); err == nil {
		t.Error("probability 1.5 accepted")
	}
}
