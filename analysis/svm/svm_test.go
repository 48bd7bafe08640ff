package svm

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// round8 rounds to 8 significant digits, the precision libsvm writes
// support vectors with, so both sides train on identical numbers.
func round8(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 8, 64), 64)
	return r
}

// blobs: two Gaussian clouds in d dimensions, centres ±sep/2 on every axis.
func blobs(n, d int, sep float64, seed uint64) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([][]float64, n)
	y := make([]int, n)
	for i := range x {
		c := 1
		if rng.IntN(2) == 0 {
			c = -1
		}
		y[i] = c
		x[i] = make([]float64, d)
		for j := range x[i] {
			x[i][j] = round8(rng.NormFloat64() + float64(c)*sep/2)
		}
	}
	return x, y
}

// xorData: labels sign(x1·x2) in [−1,1]², with a few flipped labels.
func xorData(n int, seed uint64) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 11))
	x := make([][]float64, n)
	y := make([]int, n)
	for i := range x {
		a, b := round8(2*rng.Float64()-1), round8(2*rng.Float64()-1)
		x[i] = []float64{a, b}
		y[i] = 2
		if a*b < 0 {
			y[i] = 5
		}
		if rng.Float64() < 0.05 {
			y[i] = 7 - y[i]
		}
	}
	return x, y
}

func sinData(n int, seed uint64) ([][]float64, []float64) {
	rng := rand.New(rand.NewPCG(seed, 13))
	x := make([][]float64, n)
	y := make([]float64, n)
	for i := range x {
		t := round8(2 * math.Pi * rng.Float64())
		x[i] = []float64{t}
		y[i] = round8(math.Sin(t) + 0.1*rng.NormFloat64())
	}
	return x, y
}

func TestSeparable(t *testing.T) {
	x, y := blobs(200, 5, 6, 1)
	for _, k := range []Kernel{{Kind: "linear"}, {Kind: "rbf", Gamma: 0.2}} {
		m, err := TrainSVC(x, y, DefaultParams(k))
		if err != nil {
			t.Fatal(err)
		}
		for i := range x {
			if int(m.Predict(x[i])) != y[i] {
				t.Fatalf("%s: sample %d misclassified", k.Kind, i)
			}
		}
		if m.NumSV() < 2 || m.NumSV() > 100 {
			t.Errorf("%s: %d SVs for well separated data", k.Kind, m.NumSV())
		}
	}
}

// kktSVC checks the optimality conditions of the C-SVC dual at the returned
// model: yᵢf(xᵢ) ≥ 1 for α=0, = 1 for 0<α<C, ≤ 1 for α=C (within tol), and
// Σ yᵢαᵢ = 0.
func kktSVC(t *testing.T, m *Model, x [][]float64, y []int, C, tol float64) {
	t.Helper()
	alpha := make([]float64, len(x))
	sum := 0.0
	for k, i := range m.SVIndex {
		alpha[i] = math.Abs(m.Coef[k])
		sum += m.Coef[k]
	}
	if math.Abs(sum) > 1e-9*C*float64(len(x)) {
		t.Errorf("Σ yα = %g, want 0", sum)
	}
	worst := 0.0
	for i := range x {
		yi := -1.0
		if y[i] == m.Labels[0] {
			yi = 1
		}
		yf := yi * m.Decision(x[i])
		var v float64
		switch {
		case alpha[i] == 0:
			v = math.Max(0, 1-yf)
		case alpha[i] >= C:
			v = math.Max(0, yf-1)
		default:
			v = math.Abs(yf - 1)
		}
		worst = math.Max(worst, v)
	}
	if worst > tol {
		t.Errorf("max KKT violation %g > %g", worst, tol)
	}
	t.Logf("max KKT violation %.2e, %d SVs", worst, m.NumSV())
}

func TestKKT(t *testing.T) {
	x, y := blobs(400, 4, 1.5, 2)
	for _, shrink := range []bool{false, true} {
		p := DefaultParams(Kernel{Kind: "rbf", Gamma: 0.25})
		p.C = 2
		p.Shrinking = shrink
		m, err := TrainSVC(x, y, p)
		if err != nil {
			t.Fatal(err)
		}
		// The stopping rule bounds m(α)−M(α) by tol; with b the average over
		// free SVs, each condition holds within tol.
		kktSVC(t, m, x, y, p.C, p.Tol)
	}
	// SVR: |f(xᵢ) − yᵢ| ≤ ε for non-SVs, = ε for free SVs, ≥ ε at bound.
	sx, sy := sinData(300, 3)
	p := DefaultParams(Kernel{Kind: "rbf", Gamma: 0.5})
	p.C = 10
	m, err := TrainSVR(sx, sy, p)
	if err != nil {
		t.Fatal(err)
	}
	coef := make([]float64, len(sx))
	for k, i := range m.SVIndex {
		coef[i] = m.Coef[k]
	}
	worst := 0.0
	for i := range sx {
		r := sy[i] - m.Decision(sx[i]) // residual
		a := math.Abs(coef[i])
		var v float64
		switch {
		case a == 0:
			v = math.Max(0, math.Abs(r)-p.Epsilon)
		case a >= p.C:
			v = math.Max(0, p.Epsilon-math.Abs(r))
			if r*coef[i] < 0 {
				v = math.Max(v, math.Abs(r))
			}
		default:
			v = math.Abs(math.Abs(r) - p.Epsilon)
		}
		worst = math.Max(worst, v)
	}
	if worst > p.Tol {
		t.Errorf("SVR max KKT violation %g", worst)
	}
}

// A two-column cache must give the same model as a full one.
func TestTinyCache(t *testing.T) {
	x, y := blobs(300, 3, 1, 4)
	ys := make([]int8, len(y))
	for i, v := range y {
		ys[i] = int8(v)
	}
	k := kernelEval{gamma: 0.3}
	run := func(cols int, shrink bool) solution {
		q := newSVCQ(x, ys, k, 100)
		if cols > 0 {
			q.cache = newKcache(len(x), 1)
			q.cache.maxCols = cols
		}
		p := make([]float64, len(x))
		for i := range p {
			p[i] = -1
		}
		return solve(len(x), q, p, append([]int8(nil), ys...), make([]float64, len(x)), 1, 1e-3, shrink, nil)
	}
	for _, shrink := range []bool{false, true} {
		a, b := run(0, shrink), run(2, shrink)
		if a.iter != b.iter || math.Abs(a.rho-b.rho) > 1e-12 {
			t.Errorf("shrink=%v: full cache iter %d rho %g, tiny cache iter %d rho %g", shrink, a.iter, a.rho, b.iter, b.rho)
		}
	}
}

func TestErrors(t *testing.T) {
	x, y := blobs(20, 2, 3, 5)
	p := DefaultParams(Kernel{Kind: "rbf", Gamma: 1})
	one := make([]int, len(y))
	check := func(name string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want error containing %q", name, err, want)
		}
	}
	_, err := TrainSVC(x, one, p)
	check("one class", err, "only one class")
	bad := p
	bad.Kernel.Gamma = 0
	_, err = TrainSVC(x, y, bad)
	check("gamma 0", err, "gamma > 0")
	bad.Kernel.Gamma = -1
	_, err = TrainSVR(x, make([]float64, len(x)), bad)
	check("gamma <0", err, "gamma > 0")
	bad = p
	bad.C = 0
	_, err = TrainSVC(x, y, bad)
	check("C 0", err, "C must be > 0")
	bad = p
	bad.Kernel.Kind = "poly"
	_, err = TrainSVC(x, y, bad)
	check("kernel", err, "unknown kernel")
	rag := append([][]float64(nil), x...)
	rag[3] = []float64{1}
	_, err = TrainSVC(rag, y, p)
	check("ragged", err, "ragged")
	nan := append([][]float64(nil), x...)
	nan[4] = []float64{1, math.NaN()}
	_, err = TrainSVC(nan, y, p)
	check("NaN", err, "NaN")
	ty := make([]float64, len(x))
	ty[2] = math.NaN()
	_, err = TrainSVR(x, ty, p)
	check("NaN target", err, "NaN")
	_, err = TrainSVC(nil, nil, p)
	check("empty", err, "empty")
	three := append([]int(nil), y...)
	three[0] = 9
	_, err = TrainSVC(x, three, p)
	check("three classes", err, "more than two")
}

func TestReadCSV(t *testing.T) {
	lab, x, err := ReadCSV(strings.NewReader("1,2,3\n\n# c\n-1, 4.5 ,6e1\n"), "a.csv")
	if err != nil || len(lab) != 2 || lab[1] != -1 || x[1][1] != 60 || x[1][0] != 4.5 {
		t.Fatalf("got %v %v %v", lab, x, err)
	}
	for _, c := range []struct{ in, want string }{
		{"1,2,3\n1,2\n", "b.csv:2: ragged row"},
		{"1,2,3\n\n1,x,3\n", "b.csv:3: field 2: \"x\" is not a finite number"},
		{"1,2,NaN\n", "b.csv:1: field 3"},
		{"", "b.csv: empty input"},
		{"\n# only comment\n", "b.csv: empty input"},
		{"1\n", "b.csv:1: need a label"},
	} {
		_, _, err := ReadCSV(strings.NewReader(c.in), "b.csv")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.in, err, c.want)
		}
	}
}

func TestScalerAndGrid(t *testing.T) {
	x, yi := xorData(240, 6)
	for i := range x {
		x[i][0] = 100 + 50*x[i][0] // badly scaled feature
	}
	s := FitScaler(x)
	z := s.Apply(x)
	for j := 0; j < 2; j++ {
		m, v := 0.0, 0.0
		for i := range z {
			m += z[i][j]
		}
		m /= float64(len(z))
		for i := range z {
			v += (z[i][j] - m) * (z[i][j] - m)
		}
		if math.Abs(m) > 1e-12 || math.Abs(v/float64(len(z))-1) > 1e-12 {
			t.Errorf("feature %d: mean %g var %g", j, m, v/float64(len(z)))
		}
	}
	y := make([]float64, len(yi))
	for i, v := range yi {
		y[i] = float64(v)
	}
	Cs := []float64{0.1, 1, 10}
	gs := []float64{0.01, 0.5, 2}
	c1, g1, s1, err := GridSearch(z, y, 4, Cs, gs, false, 42)
	if err != nil {
		t.Fatal(err)
	}
	c2, g2, s2, _ := GridSearch(z, y, 4, Cs, gs, false, 42)
	if c1 != c2 || g1 != g2 || s1 != s2 {
		t.Errorf("not deterministic: (%g,%g,%g) vs (%g,%g,%g)", c1, g1, s1, c2, g2, s2)
	}
	if s1 < 0.85 || g1 == 0.01 {
		t.Errorf("XOR grid search: C=%g gamma=%g acc=%g", c1, g1, s1)
	}
	sx, sy := sinData(200, 8)
	_, g, mse, err := GridSearch(sx, sy, 5, []float64{1, 10}, []float64{0.001, 0.5}, true, 1)
	if err != nil || g != 0.5 || mse > 0.05 {
		t.Errorf("SVR grid: gamma %g mse %g err %v", g, mse, err)
	}
	if _, _, _, err := GridSearch(sx, sy, 1, Cs, gs, true, 1); err == nil {
		t.Error("folds=1 accepted")
	}
}

// TestDecisionFor trains the same separable problem with either class
// first: Decision changes sign with the order of the samples, DecisionFor
// does not.
func TestDecisionFor(t *testing.T) {
	x := [][]float64{{-2, 0}, {-1, 1}, {-1.5, -1}, {2, 0}, {1, 1}, {1.5, -1}}
	y := []int{0, 0, 0, 1, 1, 1}
	for _, first := range []int{0, 3} {
		xs, ys := append([][]float64{x[first]}, x...), append([]int{y[first]}, y...)
		m, err := TrainSVC(xs, ys, DefaultParams(Kernel{Kind: "linear"}))
		if err != nil {
			t.Fatal(err)
		}
		if m.Labels[0] != y[first] {
			t.Fatalf("first sample of class %d: Labels %v", y[first], m.Labels)
		}
		for i := range x {
			d := m.DecisionFor(1, x[i])
			if (d > 0) != (y[i] == 1) {
				t.Errorf("first class %d: sample %d of class %d has DecisionFor(1) = %g", y[first], i, y[i], d)
			}
			if m.DecisionFor(0, x[i]) != -d {
				t.Errorf("DecisionFor(0) is not −DecisionFor(1)")
			}
		}
	}
}

// TestParallelColumnsBitwise: above parallelFrom vectors the kernel columns
// are filled by several goroutines; the model must be the same bits as with
// one, for the SVM and the SVR (whose columns span all l points).
func TestParallelColumnsBitwise(t *testing.T) {
	n := parallelFrom + 1500
	x, y := blobs(n, 6, 1, 21)
	xs, ys := sinData(n, 22)
	var calls int
	last := math.Inf(1)
	train := func(procs int) (*Model, *Model) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		p := DefaultParams(Kernel{Kind: "rbf", Gamma: 0.5})
		if procs == 1 { // the progress callback must not change the model either
			p.Progress = func(iter int, violation float64) {
				calls++
				if iter <= 0 || iter%1000 != 0 || violation <= 0 {
					t.Errorf("progress call %d: %d iterations, violation %g", calls, iter, violation)
				}
				last = violation
			}
		}
		p.CacheMB, p.Shrinking = 1, true // a small cache: columns are refilled
		svc, err := TrainSVC(x, y, p)
		if err != nil {
			t.Fatal(err)
		}
		p.Epsilon = 0.05
		svr, err := TrainSVR(xs, ys, p)
		if err != nil {
			t.Fatal(err)
		}
		return svc, svr
	}
	c1, r1 := train(1)
	c4, r4 := train(4)
	if want := (c1.Iter+r1.Iter)/1000 - 2; calls < want || last > 1 {
		t.Errorf("progress called %d times (want ≥ %d for %d + %d iterations), last violation %g", calls, want, c1.Iter, r1.Iter, last)
	}
	for _, m := range []struct {
		name string
		a, b *Model
	}{{"SVC", c1, c4}, {"SVR", r1, r4}} {
		if m.a.Iter != m.b.Iter || m.a.Bias != m.b.Bias || m.a.Obj != m.b.Obj ||
			!slices.Equal(m.a.SVIndex, m.b.SVIndex) || !slices.Equal(m.a.Coef, m.b.Coef) {
			t.Errorf("%s: 1 goroutine: %d iterations, %d SVs, bias %v, objective %v; 4: %d, %d, %v, %v",
				m.name, m.a.Iter, m.a.NumSV(), m.a.Bias, m.a.Obj, m.b.Iter, m.b.NumSV(), m.b.Bias, m.b.Obj)
		}
		if m.a.NumSV() < 100 {
			t.Errorf("%s: %d support vectors: too few to exercise the solver", m.name, m.a.NumSV())
		}
	}
}
