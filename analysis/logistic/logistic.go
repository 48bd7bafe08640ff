// Package logistic fits a two-class logistic regression with an L2
// penalty by Newton's method (iteratively reweighted least squares), on
// features standardised by the training set. It is deterministic: the same
// data give bitwise the same model.
//
// The model minimises
//
//	L(w, b) = Σᵢ [log(1 + e^{zᵢ}) − yᵢ zᵢ] + (λ/2)·|w|²,   zᵢ = w·x̃ᵢ + b,
//
// where x̃ are the features standardised by the training mean and
// population standard deviation and the intercept b is not penalised. This
// is scikit-learn's LogisticRegression(C = 1/λ) on StandardScaler features.
package logistic

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// DefaultLambda is the weight λ of the L2 penalty that the study uses:
// with standardised features and hundreds of training images it barely
// shrinks informative weights but keeps the fit finite when the classes
// are separable (scikit-learn's default, C = 1).
const DefaultLambda = 1.0

// Model is a fitted logistic regression.
type Model struct {
	// Mean and Scale standardise the features: x̃ = (x − Mean)/Scale
	// (Scale is 1 for a constant feature).
	Mean, Scale []float64
	// Weights apply to the standardised features; Bias is the intercept.
	Weights []float64
	Bias    float64
	// Lambda is the weight of the L2 penalty on Weights.
	Lambda float64
	// Iterations is the number of Newton steps taken.
	Iterations int
}

const (
	maxIter = 100
	tol     = 1e-10 // largest Newton step at convergence, in standardised units
)

// Fit fits the model to features x (one row per sample) and labels y (0 or
// 1), with penalty weight lambda > 0. It fails on empty or ragged input,
// a non-finite feature, a label other than 0 or 1, a single class, or if
// Newton's method does not converge.
func Fit(x [][]float64, y []int, lambda float64) (*Model, error) {
	if !(lambda > 0) || math.IsInf(lambda, 0) {
		return nil, fmt.Errorf("logistic: penalty λ must be positive and finite, got %v", lambda)
	}
	if len(x) == 0 {
		return nil, errors.New("logistic: no samples")
	}
	if len(x) != len(y) {
		return nil, fmt.Errorf("logistic: %d samples but %d labels", len(x), len(y))
	}
	d := len(x[0])
	if d == 0 {
		return nil, errors.New("logistic: samples have no features")
	}
	var count [2]int
	for i, r := range x {
		if len(r) != d {
			return nil, fmt.Errorf("logistic: sample %d has %d features, sample 0 has %d", i, len(r), d)
		}
		for j, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("logistic: sample %d feature %d is %v", i, j, v)
			}
		}
		if y[i] != 0 && y[i] != 1 {
			return nil, fmt.Errorf("logistic: label %d of sample %d is not 0 or 1", y[i], i)
		}
		count[y[i]]++
	}
	if count[0] == 0 || count[1] == 0 {
		return nil, fmt.Errorf("logistic: one class only (%d of class 0, %d of class 1)", count[0], count[1])
	}
	m := &Model{Mean: make([]float64, d), Scale: make([]float64, d), Weights: make([]float64, d), Lambda: lambda}
	n := float64(len(x))
	for j := range d {
		var s float64
		for _, r := range x {
			s += r[j]
		}
		m.Mean[j] = s / n
		var ss float64
		for _, r := range x {
			ss += (r[j] - m.Mean[j]) * (r[j] - m.Mean[j])
		}
		m.Scale[j] = math.Sqrt(ss / n)
		if m.Scale[j] == 0 {
			m.Scale[j] = 1
		}
	}
	// Design matrix: a column of ones, then the standardised features.
	z := make([][]float64, len(x))
	for i, r := range x {
		z[i] = make([]float64, d+1)
		z[i][0] = 1
		for j, v := range r {
			z[i][j+1] = (v - m.Mean[j]) / m.Scale[j]
		}
	}
	theta := make([]float64, d+1)
	loss := objective(z, y, theta, lambda)
	h := mat.NewSymDense(d+1, nil)
	g := mat.NewVecDense(d+1, nil)
	var step mat.VecDense
	var chol mat.Cholesky
	for m.Iterations < maxIter {
		m.Iterations++
		h.Zero()
		g.Zero()
		for i, zi := range z {
			p := sigmoid(dot(zi, theta))
			w := p * (1 - p)
			for a := range zi {
				g.SetVec(a, g.AtVec(a)+(p-float64(y[i]))*zi[a])
				for b := a; b < len(zi); b++ {
					h.SetSym(a, b, h.At(a, b)+w*zi[a]*zi[b])
				}
			}
		}
		for a := 1; a <= d; a++ {
			g.SetVec(a, g.AtVec(a)+lambda*theta[a])
			h.SetSym(a, a, h.At(a, a)+lambda)
		}
		if !chol.Factorize(h) {
			return nil, fmt.Errorf("logistic: Hessian not positive definite at Newton step %d", m.Iterations)
		}
		if err := chol.SolveVecTo(&step, g); err != nil {
			return nil, fmt.Errorf("logistic: Newton step %d: %w", m.Iterations, err)
		}
		// Backtrack until the objective decreases (a full step almost
		// always does; the loop only guards against overshooting).
		t, next := 1.0, make([]float64, d+1)
		for {
			for a := range theta {
				next[a] = theta[a] - t*step.AtVec(a)
			}
			if l := objective(z, y, next, lambda); l <= loss || t < 1e-8 {
				loss = l
				break
			}
			t /= 2
		}
		largest := 0.0
		for a := range theta {
			largest = math.Max(largest, math.Abs(next[a]-theta[a]))
		}
		copy(theta, next)
		if largest < tol {
			m.Bias, m.Weights = theta[0], theta[1:]
			return m, nil
		}
	}
	return nil, fmt.Errorf("logistic: Newton's method did not converge in %d steps", maxIter)
}

// objective is L(θ) for the design matrix z (intercept column first).
func objective(z [][]float64, y []int, theta []float64, lambda float64) float64 {
	var l float64
	for i, zi := range z {
		s := dot(zi, theta)
		l += softplus(s) - float64(y[i])*s
	}
	for _, w := range theta[1:] {
		l += lambda / 2 * w * w
	}
	return l
}

// Score returns the log-odds of class 1 for the features x: positive
// predicts class 1. It panics if x has the wrong number of features.
func (m *Model) Score(x []float64) float64 {
	if len(x) != len(m.Weights) {
		panic(fmt.Sprintf("logistic: %d features, model fitted on %d", len(x), len(m.Weights)))
	}
	s := m.Bias
	for j, v := range x {
		s += m.Weights[j] * (v - m.Mean[j]) / m.Scale[j]
	}
	return s
}

// Prob returns the probability of class 1 for the features x.
func (m *Model) Prob(x []float64) float64 { return sigmoid(m.Score(x)) }

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func sigmoid(s float64) float64 {
	if s >= 0 {
		return 1 / (1 + math.Exp(-s))
	}
	e := math.Exp(s)
	return e / (1 + e)
}

// softplus is log(1 + e^s) without overflow.
func softplus(s float64) float64 {
	if s > 0 {
		return s + math.Log1p(math.Exp(-s))
	}
	return math.Log1p(math.Exp(s))
}
