package study

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/turbindex/turbindex/analysis/svm"
	"github.com/turbindex/turbindex/internal/progress"
	"github.com/turbindex/turbindex/train/dataset"
)

// How the SVMs scale
//
// An RBF SVM trained by SMO costs about n² kernel evaluations of d
// features for n training vectors (n iterations, each needing kernel rows
// of length n that the cache cannot all hold once n²·4 bytes outgrows it);
// cross-validating a grid of g (C, γ) points with k folds multiplies that by
// about g·(k−1)²/k. At the paper's 38 400 vectors of 1 152 HOG features the
// grid alone would be hours. So C and γ are chosen by k-fold CV on a
// subsample of at most Options.SVMSubsample training vectors, stratified by
// simulation (the same number of images from every simulation, hence
// balanced in class and spread over n), and the chosen model is then fitted
// once on every training vector with shrinking and a kernel cache that
// holds the whole kernel matrix when the memory budget allows (KernelCaches).
// docs/SCALING.md compares this with CV on the full split.

// selectionSample returns the indices of at most max of the images lab
// (all when max ≤ 0 or there are no more), the same number from each
// simulation (one more for the first ones when it does not divide), chosen
// at random by seed within each simulation, in increasing order.
func selectionSample(lab []dataset.Label, max int, seed uint64) []int {
	if max <= 0 || len(lab) <= max {
		idx := make([]int, len(lab))
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	var sims []string
	bySim := map[string][]int{}
	for i, l := range lab {
		if _, ok := bySim[l.ID]; !ok {
			sims = append(sims, l.ID)
		}
		bySim[l.ID] = append(bySim[l.ID], i)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed5))
	per, extra := max/len(sims), max%len(sims)
	var out []int
	for k, id := range sims {
		want := per
		if k < extra {
			want++
		}
		imgs := bySim[id]
		rng.Shuffle(len(imgs), func(a, b int) { imgs[a], imgs[b] = imgs[b], imgs[a] })
		out = append(out, imgs[:min(want, len(imgs))]...)
	}
	slices.Sort(out)
	return out
}

// pick returns v[idx[0]], v[idx[1]], ….
func pick[T any](v []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = v[j]
	}
	return out
}

// gridSearch chooses C and γ for an SVM (svr false) or SVR by
// cross-validation on x, y, logging its time.
func (s *state) gridSearch(name string, x [][]float64, y []float64, svr bool) (c, gamma, score float64, err error) {
	t0 := time.Now()
	s.log.Info(name+" model selection", "vectors", len(x), "grid", len(s.o.Cs)*len(s.gammas), "folds", s.o.Folds)
	base := svm.DefaultParams(svm.Kernel{Kind: "rbf", Gamma: 1})
	base.CacheMB = s.selectionCacheMB
	prog := progress.New(s.o.Progress, s.log, name+" model selection", float64(len(s.o.Cs)*len(s.gammas)), 30*time.Second)
	c, gamma, score, err = svm.GridSearchProgress(x, y, s.o.Folds, s.o.Cs, s.gammas, svr, s.o.Seed, base,
		func(done, _ int) { prog.Update(float64(done)) })
	prog.Finish()
	if err == nil {
		s.log.Info(name+" model selected", "C", c, "gamma", gamma, "cv", score, "seconds", time.Since(t0).Seconds())
	}
	return c, gamma, score, err
}

// fitSVM runs train with p and the study's kernel cache, reporting its
// progress: an estimate of its time from the number of vectors n, then the
// time it took.
func (s *state) fitSVM(name string, n int, train func(svm.Params) (*svm.Model, error), p svm.Params) (*svm.Model, error) {
	p.CacheMB, p.Shrinking = s.fitCacheMB, true
	if need := wholeKernelMiB(n); need > p.CacheMB {
		// SMO revisits columns; those evicted are recomputed, each n
		// kernel evaluations. At 38 400 vectors a 200 MiB cache made a
		// fit take over 40 minutes on 2 cores (docs/SCALING.md).
		s.log.Warn(name+": the kernel cache holds only part of the kernel matrix; evicted columns are recomputed",
			"vectors", n, "cache_mib", p.CacheMB, "columns_held", p.CacheMB<<20/(4*n), "whole_matrix_mib", need,
			"remedy", fmt.Sprintf("--svm-cache %d, and a memory budget that allows it", need))
	}
	t0 := time.Now()
	prog := progress.New(s.o.Progress, s.log, name+" fit", 1, 30*time.Second)
	prog.Update(0, slog.Int("vectors", n))
	p.Progress = smoProgress(prog, p.Tol)
	m, err := train(p)
	if err != nil {
		return nil, err
	}
	prog.Finish(slog.Int("support_vectors", m.NumSV()), slog.Int("iterations", m.Iter), slog.Float64("seconds", time.Since(t0).Seconds()))
	s.r.Parameters[slug(name)+"_fit"] = fmt.Sprintf("%d vectors, %d support vectors, %d SMO iterations, %.0f s", n, m.NumSV(), m.Iter, time.Since(t0).Seconds())
	return m, nil
}

// smoProgress maps an SMO fit's maximal KKT violation to a fraction of
// the work done, for the bar and its ETA: the violation falls roughly
// geometrically from its largest value v₀ to the tolerance, so the fraction
// is log(v₀/v) / log(v₀/tol), never decreasing, short of 1 until the fit
// returns. On a large fit the violation can stay near v₀ for thousands of
// iterations while SMO walks the bounded vectors; the fraction stays 0 (and
// no ETA is given) until it has covered 5 %, since an ETA from less is
// hundreds of hours of noise. Even then it is rough — the last decade is
// often the slowest — but it says minutes or hours.
func smoProgress(prog *progress.Progress, tol float64) func(iter int, violation float64) {
	if tol <= 0 {
		tol = 1e-3
	}
	v0, done := 10*tol, 0.0
	return func(iter int, v float64) {
		v0 = max(v0, v)
		if f := math.Log(v0/max(v, tol)) / math.Log(v0/tol); f >= 0.05 {
			done = max(done, min(f, 0.99))
		}
		prog.Update(done, slog.Int("iterations", iter), slog.Float64("violation", v))
	}
}

// wholeKernelMiB is the kernel cache, in MiB, that holds every column of a
// fit on n vectors (4-byte entries, as libsvm's Qfloat).
func wholeKernelMiB(n int) int {
	return int((4*int64(n)*int64(n) + 1<<20 - 1) >> 20)
}

// decisions runs score, an SVM's decision values on x on every CPU,
// reporting its progress under name when it is long: each vector costs a
// kernel evaluation per support vector, about 10 ms at the paper's 38 000
// support vectors, so the holdout, zoom and degradation stages' tens of
// thousands of vectors take minutes.
func (s *state) decisions(name string, x [][]float64, score func(x [][]float64, progress func(done int)) []float64) []float64 {
	prog := progress.New(s.o.Progress, s.log, name, float64(len(x)), 30*time.Second)
	out := score(x, func(done int) { prog.Update(float64(done)) })
	prog.Finish()
	return out
}
