package svm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// Scaler standardises features: (x − Mean) / Std, fitted on a training split.
type Scaler struct {
	Mean, Std []float64
}

// FitScaler computes per-feature mean and population standard deviation.
// Constant features get Std = 1 (they map to 0).
func FitScaler(x [][]float64) Scaler {
	if len(x) == 0 {
		return Scaler{}
	}
	d := len(x[0])
	s := Scaler{Mean: make([]float64, d), Std: make([]float64, d)}
	for _, r := range x {
		for j := 0; j < d && j < len(r); j++ {
			s.Mean[j] += r[j]
		}
	}
	n := float64(len(x))
	for j := range s.Mean {
		s.Mean[j] /= n
	}
	for _, r := range x {
		for j := 0; j < d && j < len(r); j++ {
			v := r[j] - s.Mean[j]
			s.Std[j] += v * v
		}
	}
	for j := range s.Std {
		s.Std[j] = math.Sqrt(s.Std[j] / n)
		if !(s.Std[j] > 0) {
			s.Std[j] = 1
		}
	}
	return s
}

// Apply returns a standardised copy of x.
func (s Scaler) Apply(x [][]float64) [][]float64 {
	out := make([][]float64, len(x))
	for i, r := range x {
		o := make([]float64, len(r))
		for j, v := range r {
			if j < len(s.Mean) {
				o[j] = (v - s.Mean[j]) / s.Std[j]
			} else {
				o[j] = v
			}
		}
		out[i] = o
	}
	return out
}

// GridSearch chooses C and γ (RBF kernel) by k-fold cross-validation on the
// given (training) data, with DefaultParams otherwise. For C-SVC (svr false)
// y holds integer labels, folds are stratified and score is the CV accuracy
// (higher is better); for SVR score is the CV mean squared error (lower is
// better). Grid points are evaluated in parallel; the result depends only on
// the inputs and seed. Ties go to the first point in (C, γ) order.
func GridSearch(x [][]float64, y []float64, folds int, Cs, gammas []float64, svr bool, seed uint64) (bestC, bestGamma, score float64, err error) {
	return GridSearchParams(x, y, folds, Cs, gammas, svr, seed, DefaultParams(Kernel{Kind: "rbf", Gamma: 1}))
}

// GridSearchParams is GridSearch with explicit base parameters (Epsilon,
// Tol, CacheMB, Shrinking are taken from base; C and Gamma are searched).
func GridSearchParams(x [][]float64, y []float64, folds int, Cs, gammas []float64, svr bool, seed uint64, base Params) (bestC, bestGamma, score float64, err error) {
	return GridSearchProgress(x, y, folds, Cs, gammas, svr, seed, base, nil)
}

// GridSearchProgress is GridSearchParams calling progress (when not nil)
// with the number of grid points done and their total after each, from one
// goroutine at a time.
func GridSearchProgress(x [][]float64, y []float64, folds int, Cs, gammas []float64, svr bool, seed uint64, base Params, progress func(done, total int)) (bestC, bestGamma, score float64, err error) {
	n := len(x)
	if len(Cs) == 0 || len(gammas) == 0 {
		return 0, 0, 0, errors.New("svm: grid search needs at least one C and one gamma")
	}
	if folds < 2 || folds > n {
		return 0, 0, 0, fmt.Errorf("svm: folds must be in [2, %d], got %d", n, folds)
	}
	if err := checkX(x, len(y)); err != nil {
		return 0, 0, 0, err
	}
	var iy []int
	if !svr {
		iy = make([]int, n)
		for i, v := range y {
			if v != math.Trunc(v) || math.Abs(v) > 1<<31 {
				return 0, 0, 0, fmt.Errorf("svm: label %d (%v) is not an integer", i, v)
			}
			iy[i] = int(v)
		}
	}
	// Fold assignment (stratified by class for SVC).
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	fold := make([]int, n)
	if svr {
		perm := rng.Perm(n)
		for pos, i := range perm {
			fold[i] = pos % folds
		}
	} else {
		var order []int
		groups := map[int][]int{}
		for i, v := range iy {
			if _, ok := groups[v]; !ok {
				order = append(order, v)
			}
			groups[v] = append(groups[v], i)
		}
		pos := 0
		for _, lab := range order {
			g := groups[lab]
			rng.Shuffle(len(g), func(a, b int) { g[a], g[b] = g[b], g[a] })
			for _, i := range g {
				fold[i] = pos % folds
				pos++
			}
		}
	}
	type point struct{ c, g float64 }
	var pts []point
	for _, c := range Cs {
		for _, g := range gammas {
			pts = append(pts, point{c, g})
		}
	}
	scores := make([]float64, len(pts))
	errs := make([]error, len(pts))
	workers := min(runtime.GOMAXPROCS(0), len(pts))
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				p := base
				p.C = pts[k].c
				p.Kernel = Kernel{Kind: "rbf", Gamma: pts[k].g}
				scores[k], errs[k] = cvScore(x, y, iy, fold, folds, p, svr)
				if progress != nil {
					mu.Lock()
					done++
					progress(done, len(pts))
					mu.Unlock()
				}
			}
		}()
	}
	for k := range pts {
		next <- k
	}
	close(next)
	wg.Wait()
	best := -1
	for k := range pts {
		if errs[k] != nil {
			return 0, 0, 0, fmt.Errorf("svm: grid point C=%g gamma=%g: %w", pts[k].c, pts[k].g, errs[k])
		}
		if best < 0 || (!svr && scores[k] > scores[best]) || (svr && scores[k] < scores[best]) {
			best = k
		}
	}
	return pts[best].c, pts[best].g, scores[best], nil
}

func cvScore(x [][]float64, y []float64, iy []int, fold []int, folds int, p Params, svr bool) (float64, error) {
	total := 0.0
	for f := 0; f < folds; f++ {
		var tx [][]float64
		var ty []float64
		var tiy []int
		for i := range x {
			if fold[i] != f {
				tx = append(tx, x[i])
				ty = append(ty, y[i])
				if !svr {
					tiy = append(tiy, iy[i])
				}
			}
		}
		var m *Model
		var err error
		if svr {
			m, err = TrainSVR(tx, ty, p)
		} else {
			m, err = TrainSVC(tx, tiy, p)
		}
		if err != nil {
			return 0, fmt.Errorf("fold %d: %w", f, err)
		}
		for i := range x {
			if fold[i] != f {
				continue
			}
			v := m.Predict(x[i])
			if svr {
				total += (v - y[i]) * (v - y[i])
			} else if v == y[i] {
				total++
			}
		}
	}
	return total / float64(len(x)), nil
}

// ReadCSV reads rows of comma-separated numbers: label (or target) first,
// then the features. Blank lines and lines starting with '#' are skipped.
// Errors name the input and line: "name:line: …".
func ReadCSV(r io.Reader, name string) (labels []float64, x [][]float64, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	line := 0
	width := -1
	widthLine := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		fields := strings.Split(t, ",")
		if len(fields) < 2 {
			return nil, nil, fmt.Errorf("%s:%d: need a label and at least one feature, got %d field(s)", name, line, len(fields))
		}
		if width < 0 {
			width, widthLine = len(fields), line
		} else if len(fields) != width {
			return nil, nil, fmt.Errorf("%s:%d: ragged row: %d fields, line %d has %d", name, line, len(fields), widthLine, width)
		}
		row := make([]float64, len(fields)-1)
		for k, f := range fields {
			v, perr := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if perr != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("%s:%d: field %d: %q is not a finite number", name, line, k+1, f)
			}
			if k == 0 {
				labels = append(labels, v)
			} else {
				row[k-1] = v
			}
		}
		x = append(x, row)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(x) == 0 {
		return nil, nil, fmt.Errorf("%s: empty input: no data rows", name)
	}
	return labels, x, nil
}
