package logistic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/internal/pyref"
)

// fixed returns a fixed data set: n samples of d features, the classes
// overlapping along a direction, the features of very different scales
// (as moments of log Σ and a spectral slope are).
func fixed(n, d int, seed uint64) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	x, y := make([][]float64, n), make([]int, n)
	for i := range x {
		y[i] = i % 2
		x[i] = make([]float64, d)
		for j := range x[i] {
			scale := math.Pow(10, float64(j-1))
			x[i][j] = scale * (rng.NormFloat64() + 0.8*float64(y[i])*float64(j%3))
		}
	}
	return x, y
}

// TestNumpy compares with an independent Newton (IRLS) solver written in
// numpy: same objective, same standardisation, solved to 1e-12.
func TestNumpy(t *testing.T) {
	py := pyref.Python(t, "numpy", "python3-numpy")
	for _, c := range []struct {
		n, d   int
		lambda float64
	}{{40, 1, 1}, {200, 5, 1}, {200, 5, 0.01}, {60, 3, 30}} {
		x, y := fixed(c.n, c.d, uint64(c.n+c.d))
		m, err := Fit(x, y, c.lambda)
		if err != nil {
			t.Fatal(err)
		}
		var in strings.Builder
		fmt.Fprintf(&in, "%g\n", c.lambda)
		for i, r := range x {
			in.WriteString(strconv.Itoa(y[i]))
			for _, v := range r {
				in.WriteString(" " + strconv.FormatFloat(v, 'g', -1, 64))
			}
			in.WriteByte('\n')
		}
		out := pyref.RunInput(t, py, `
import sys, numpy as np
lam = float(sys.stdin.readline())
a = np.loadtxt(sys.stdin, ndmin=2)
y, x = a[:, 0], a[:, 1:]
mu, sd = x.mean(axis=0), x.std(axis=0)
sd[sd == 0] = 1
z = np.hstack([np.ones((len(x), 1)), (x - mu) / sd])
pen = lam * np.eye(z.shape[1]); pen[0, 0] = 0
th = np.zeros(z.shape[1])
for it in range(200):
    p = 1 / (1 + np.exp(-z @ th))
    g = z.T @ (p - y) + pen @ th
    h = (z * (p * (1 - p))[:, None]).T @ z + pen
    step = np.linalg.solve(h, g)
    th -= step
    if np.abs(step).max() < 1e-13:
        break
print(" ".join(repr(v) for v in th))
`, in.String())
		var want []float64
		for _, f := range strings.Fields(out) {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("python: %q", out)
			}
			want = append(want, v)
		}
		got := append([]float64{m.Bias}, m.Weights...)
		if len(want) != len(got) {
			t.Fatalf("numpy gave %d coefficients, want %d", len(want), len(got))
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-8*math.Max(1, math.Abs(want[i])) {
				t.Errorf("n %d, d %d, λ %g: coefficient %d = %.12g, numpy %.12g", c.n, c.d, c.lambda, i, got[i], want[i])
			}
		}
	}
}

// TestSymmetric checks a case solved by hand: x = ±1 with labels 0 and 1.
// By symmetry b = 0, and the weight solves λw = 2(1 − σ(w)).
func TestSymmetric(t *testing.T) {
	m, err := Fit([][]float64{{-1}, {1}}, []int{0, 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	w := m.Weights[0]
	if math.Abs(m.Bias) > 1e-12 || math.Abs(w-2*(1-sigmoid(w))) > 1e-12 {
		t.Errorf("b = %g, w = %g: λw − 2(1 − σ(w)) = %g", m.Bias, w, w-2*(1-sigmoid(w)))
	}
	if p := m.Prob([]float64{1}); !(p > 0.5) || math.Abs(p+m.Prob([]float64{-1})-1) > 1e-12 {
		t.Errorf("P(1 | x = 1) = %g, P(1 | x = −1) = %g", p, m.Prob([]float64{-1}))
	}
}

// TestSeparable checks that the penalty keeps separable data finite.
func TestSeparable(t *testing.T) {
	x := [][]float64{{0}, {1}, {2}, {10}, {11}, {12}}
	m, err := Fit(x, []int{0, 0, 0, 1, 1, 1}, DefaultLambda)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range x {
		if (m.Score(r) > 0) != (i >= 3) {
			t.Errorf("sample %d misclassified: score %g", i, m.Score(r))
		}
	}
}

// TestDeterministic fits twice and compares bits.
func TestDeterministic(t *testing.T) {
	x, y := fixed(300, 5, 4)
	a, _ := Fit(x, y, 1)
	b, _ := Fit(x, y, 1)
	for i := range a.Weights {
		if math.Float64bits(a.Weights[i]) != math.Float64bits(b.Weights[i]) {
			t.Fatal("two fits differ")
		}
	}
}

func TestBadInput(t *testing.T) {
	good := [][]float64{{0}, {1}}
	for name, f := range map[string]func() error{
		"λ = 0":     func() error { _, err := Fit(good, []int{0, 1}, 0); return err },
		"no data":   func() error { _, err := Fit(nil, nil, 1); return err },
		"one class": func() error { _, err := Fit(good, []int{1, 1}, 1); return err },
		"label 2":   func() error { _, err := Fit(good, []int{0, 2}, 1); return err },
		"ragged":    func() error { _, err := Fit([][]float64{{0}, {1, 2}}, []int{0, 1}, 1); return err },
		"NaN":       func() error { _, err := Fit([][]float64{{0}, {math.NaN()}}, []int{0, 1}, 1); return err },
		"lengths":   func() error { _, err := Fit(good, []int{0}, 1); return err },
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func ExampleFit() {
	x := [][]float64{{0.1}, {0.2}, {0.4}, {0.5}, {0.9}, {1.0}}
	m, _ := Fit(x, []int{0, 0, 1, 0, 1, 1}, DefaultLambda)
	fmt.Printf("P(class 1 | 0.15) = %.2f, P(class 1 | 0.95) = %.2f\n", m.Prob([]float64{0.15}), m.Prob([]float64{0.95}))
	// Output: P(class 1 | 0.15) = 0.26, P(class 1 | 0.95) = 0.78
}
