// Package svm implements libsvm's training algorithm in pure Go: C-SVC and
// ε-SVR solved by SMO with second-order working-set selection (Fan, Chen &
// Lin 2005), optional shrinking, an LRU kernel-column cache, and RBF or
// linear kernels. Bias, support-vector selection and the sign convention of
// decision values follow libsvm, so models agree with svm-train.
//
// Decision values are f(x) = Σ Coef_i K(SV_i, x) + Bias (Bias = −ρ in
// libsvm's model file). For C-SVC, f > 0 predicts Labels[0]: as in libsvm,
// Labels[0] is the label of the first training sample, except that the pair
// {−1, +1} always has +1 as Labels[0] (libsvm ≥ 3.18 does the same).
package svm

import (
	"errors"
	"fmt"
	"math"
)

// Kernel selects the kernel function: "rbf" is exp(−Gamma·|x−y|²),
// "linear" is x·y (Gamma ignored).
type Kernel struct {
	Kind  string
	Gamma float64
}

// Params are the training parameters.
type Params struct {
	Kernel Kernel
	// C is the box constraint (> 0).
	C float64
	// Epsilon is the width of the ε-insensitive tube for SVR (≥ 0; libsvm's
	// -p). Ignored by C-SVC.
	Epsilon float64
	// Tol is the stopping tolerance on the maximal KKT violation
	// (libsvm's -e); 0 means 1e-3.
	Tol float64
	// CacheMB is the kernel cache size in MiB; ≤ 0 means 100.
	CacheMB int
	// Shrinking enables libsvm's shrinking heuristic (-h 1).
	Shrinking bool
	// Progress, if not nil, is called every 1 000 SMO iterations (every l
	// for fewer vectors) with the iterations so far and the maximal KKT
	// violation, which the fit drives below Tol. It does not change the
	// result; a fit of tens of thousands of vectors runs for minutes.
	Progress func(iter int, violation float64)
}

// DefaultParams returns libsvm's defaults for the given kernel: C = 1,
// ε = 0.1, tol = 1e-3, 100 MiB cache, shrinking on.
func DefaultParams(k Kernel) Params {
	return Params{Kernel: k, C: 1, Epsilon: 0.1, Tol: 1e-3, CacheMB: 100, Shrinking: true}
}

// Model is a trained SVC or SVR.
type Model struct {
	Kernel Kernel
	SVR    bool
	// SV are the support vectors (copies), Coef their coefficients
	// (yᵢαᵢ for SVC, αᵢ−αᵢ* for SVR), in libsvm's model-file order.
	SV   [][]float64
	Coef []float64
	// SVIndex are the indices of the support vectors in the training set.
	SVIndex []int
	Bias    float64
	// Labels (C-SVC only): Decision > 0 ⇒ Labels[0].
	Labels [2]int
	// Iter is the number of SMO iterations, Obj the dual objective.
	Iter int
	Obj  float64
}

// NumSV returns the number of support vectors.
func (m *Model) NumSV() int { return len(m.SV) }

// Decision returns f(x) = Σ Coef_i K(SV_i, x) + Bias. x must have as many
// features as the training samples (it panics otherwise).
func (m *Model) Decision(x []float64) float64 {
	if len(m.SV) > 0 && len(x) != len(m.SV[0]) {
		panic(fmt.Sprintf("svm: Decision on %d features, model trained on %d", len(x), len(m.SV[0])))
	}
	k := kernelEval{linear: m.Kernel.Kind == "linear", gamma: m.Kernel.Gamma}
	s := 0.0
	for i, sv := range m.SV {
		s += m.Coef[i] * k.exact(sv, x)
	}
	return s + m.Bias
}

// DecisionFor returns the decision value oriented towards label: positive
// when the model predicts label, negative when it predicts the other one.
// Use it rather than Decision wherever a score must mean one class, since
// the sign of Decision follows Labels[0], that is the class of the first
// training sample. It panics if label is not one of the model's Labels
// (or the model is an SVR).
func (m *Model) DecisionFor(label int, x []float64) float64 {
	switch {
	case m.SVR:
		panic("svm: DecisionFor on an SVR model")
	case label == m.Labels[0]:
		return m.Decision(x)
	case label == m.Labels[1]:
		return -m.Decision(x)
	}
	panic(fmt.Sprintf("svm: DecisionFor label %d, model labels are %v", label, m.Labels))
}

// Predict returns the predicted label (C-SVC; as a float64) or value (SVR).
func (m *Model) Predict(x []float64) float64 {
	d := m.Decision(x)
	if m.SVR {
		return d
	}
	if d > 0 {
		return float64(m.Labels[0])
	}
	return float64(m.Labels[1])
}

func (p *Params) check() (kernelEval, error) {
	var k kernelEval
	switch p.Kernel.Kind {
	case "rbf":
		if !(p.Kernel.Gamma > 0) || math.IsInf(p.Kernel.Gamma, 0) {
			return k, fmt.Errorf("svm: rbf kernel needs gamma > 0, got %v", p.Kernel.Gamma)
		}
		k.gamma = p.Kernel.Gamma
	case "linear":
		k.linear = true
	default:
		return k, fmt.Errorf("svm: unknown kernel %q (want \"rbf\" or \"linear\")", p.Kernel.Kind)
	}
	if !(p.C > 0) || math.IsInf(p.C, 0) {
		return k, fmt.Errorf("svm: C must be > 0 and finite, got %v", p.C)
	}
	if p.Tol == 0 {
		p.Tol = 1e-3
	}
	if !(p.Tol > 0) {
		return k, fmt.Errorf("svm: tolerance must be > 0, got %v", p.Tol)
	}
	if p.CacheMB <= 0 {
		p.CacheMB = 100
	}
	return k, nil
}

func checkX(x [][]float64, ny int) error {
	if len(x) == 0 {
		return errors.New("svm: empty training set")
	}
	if len(x) != ny {
		return fmt.Errorf("svm: %d samples but %d labels", len(x), ny)
	}
	d := len(x[0])
	if d == 0 {
		return errors.New("svm: samples have no features")
	}
	for i, r := range x {
		if len(r) != d {
			return fmt.Errorf("svm: ragged input: sample %d has %d features, sample 0 has %d", i, len(r), d)
		}
		for j, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("svm: sample %d feature %d is %v", i, j, v)
			}
		}
	}
	return nil
}

// TrainSVC trains a two-class C-SVC. y must hold exactly two distinct labels.
func TrainSVC(x [][]float64, y []int, p Params) (*Model, error) {
	k, err := p.check()
	if err != nil {
		return nil, err
	}
	if err := checkX(x, len(y)); err != nil {
		return nil, err
	}
	var labels []int
	for _, v := range y {
		if !contains(labels, v) {
			labels = append(labels, v)
			if len(labels) > 2 {
				break
			}
		}
	}
	if len(labels) < 2 {
		return nil, fmt.Errorf("svm: only one class (label %d) in the training set; C-SVC needs two", labels[0])
	}
	if len(labels) > 2 {
		return nil, fmt.Errorf("svm: more than two classes (%d, %d, %d, …); only binary C-SVC is supported", labels[0], labels[1], labels[2])
	}
	if labels[0] == -1 && labels[1] == 1 {
		labels[0], labels[1] = 1, -1
	}
	// Group samples by class as libsvm does (this fixes the solver's
	// variable order and therefore its tie-breaking).
	perm := make([]int, 0, len(y))
	for _, lab := range labels {
		for i, v := range y {
			if v == lab {
				perm = append(perm, i)
			}
		}
	}
	l := len(perm)
	xs := make([][]float64, l)
	ys := make([]int8, l)
	for t, i := range perm {
		xs[t] = x[i]
		if y[i] == labels[0] {
			ys[t] = 1
		} else {
			ys[t] = -1
		}
	}
	pl := make([]float64, l)
	for i := range pl {
		pl[i] = -1
	}
	sol := solve(l, newSVCQ(xs, ys, k, p.CacheMB), pl, append([]int8(nil), ys...), make([]float64, l), p.C, p.Tol, p.Shrinking, p.Progress)
	m := &Model{Kernel: p.Kernel, Bias: -sol.rho, Labels: [2]int{labels[0], labels[1]}, Iter: sol.iter, Obj: sol.obj}
	for t, a := range sol.alpha {
		if a > 0 {
			m.SV = append(m.SV, append([]float64(nil), xs[t]...))
			m.Coef = append(m.Coef, float64(ys[t])*a)
			m.SVIndex = append(m.SVIndex, perm[t])
		}
	}
	return m, nil
}

func contains(l []int, v int) bool {
	for _, w := range l {
		if w == v {
			return true
		}
	}
	return false
}

// TrainSVR trains an ε-SVR.
func TrainSVR(x [][]float64, y []float64, p Params) (*Model, error) {
	k, err := p.check()
	if err != nil {
		return nil, err
	}
	if err := checkX(x, len(y)); err != nil {
		return nil, err
	}
	if !(p.Epsilon >= 0) || math.IsInf(p.Epsilon, 0) {
		return nil, fmt.Errorf("svm: SVR epsilon must be ≥ 0, got %v", p.Epsilon)
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("svm: target %d is %v", i, v)
		}
	}
	l := len(x)
	pl := make([]float64, 2*l)
	ys := make([]int8, 2*l)
	for i := 0; i < l; i++ {
		pl[i] = p.Epsilon - y[i]
		ys[i] = 1
		pl[i+l] = p.Epsilon + y[i]
		ys[i+l] = -1
	}
	sol := solve(2*l, newSVRQ(x, k, p.CacheMB), pl, ys, make([]float64, 2*l), p.C, p.Tol, p.Shrinking, p.Progress)
	m := &Model{Kernel: p.Kernel, SVR: true, Bias: -sol.rho, Iter: sol.iter, Obj: sol.obj}
	for i := 0; i < l; i++ {
		c := sol.alpha[i] - sol.alpha[i+l]
		if c != 0 {
			m.SV = append(m.SV, append([]float64(nil), x[i]...))
			m.Coef = append(m.Coef, c)
			m.SVIndex = append(m.SVIndex, i)
		}
	}
	return m, nil
}
