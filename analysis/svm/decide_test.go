package svm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDecisionsBitwise: Decisions gives Decision's bits for every row,
// whatever the worker count, for an SVC with hundreds of support vectors,
// its orientation by DecisionsFor and an SVR; its progress counts every row
// once, never going back.
func TestDecisionsBitwise(t *testing.T) {
	x, y := blobs(600, 5, 1, 31)
	svc, err := TrainSVC(x, y, DefaultParams(Kernel{Kind: "rbf", Gamma: 0.3}))
	if err != nil {
		t.Fatal(err)
	}
	xs, ys := sinData(300, 32)
	svr, err := TrainSVR(xs, ys, DefaultParams(Kernel{Kind: "rbf", Gamma: 0.5}))
	if err != nil {
		t.Fatal(err)
	}
	if svc.NumSV() < 100 {
		t.Fatalf("%d support vectors: too few", svc.NumSV())
	}
	q, _ := blobs(decideBlock*13+5, 5, 1, 33) // a partial last block
	qs, _ := sinData(decideBlock*3+1, 34)
	for _, workers := range []int{1, 2, 3, 0} {
		done := 0
		got := svc.Decisions(q, workers, func(n int) {
			if n <= done || n > len(q) {
				t.Errorf("%d workers: progress %d after %d of %d", workers, n, done, len(q))
			}
			done = n
		})
		if done != len(q) {
			t.Errorf("%d workers: progress ended at %d of %d rows", workers, done, len(q))
		}
		other := svc.DecisionsFor(svc.Labels[1], q, workers, nil)
		for i := range q {
			if want := svc.Decision(q[i]); math.Float64bits(got[i]) != math.Float64bits(want) || other[i] != -want {
				t.Errorf("%d workers, row %d: Decisions %v, DecisionsFor the other label %v; Decision %v", workers, i, got[i], other[i], want)
			}
		}
		for i, v := range svr.Decisions(qs, workers, nil) {
			if want := svr.Predict(qs[i]); math.Float64bits(v) != math.Float64bits(want) {
				t.Errorf("%d workers, SVR row %d: %v, Predict %v", workers, i, v, want)
			}
		}
	}
	if n := len(svc.Decisions(nil, 0, nil)); n != 0 {
		t.Errorf("no rows: %d decisions", n)
	}
}

// BenchmarkDecisions scores 64 vectors of 1 152 features (the study's HOG
// length) against 16 000 support vectors (147 MB, more than the caches):
// one Decision per row against Decisions on one goroutine and on all.
func BenchmarkDecisions(b *testing.B) {
	const nsv, dims, rows = 16000, 1152, 64
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func() []float64 {
		v := make([]float64, dims)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	m := &Model{Kernel: Kernel{Kind: "rbf", Gamma: 1.0 / dims}, SVR: true}
	for range nsv {
		m.SV = append(m.SV, vec())
		m.Coef = append(m.Coef, rng.NormFloat64())
	}
	x := make([][]float64, rows)
	for i := range x {
		x[i] = vec()
	}
	b.Run("Decision", func(b *testing.B) {
		for b.Loop() {
			for _, r := range x {
				m.Decision(r)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N*rows), "ms/row")
	})
	for _, w := range []int{1, 0} {
		b.Run(fmt.Sprintf("Decisions/workers=%d", w), func(b *testing.B) {
			for b.Loop() {
				m.Decisions(x, w, nil)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N*rows), "ms/row")
		})
	}
}
